package io.peftplatform.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The part of JSON Schema the CRD schemas here use: type, properties, required, additionalProperties
 * (false or a schema), items, minItems, enum, minimum, const. Enough to hold a custom resource to the
 * fields its CRD declares, without a schema library.
 */
final class MiniJsonSchema {
  private MiniJsonSchema() {}

  static void validate(JsonNode schema, JsonNode value, String path, List<String> errors) {
    String at = path.isEmpty() ? "(root)" : path;
    if (schema.has("type") && !hasType(value, schema.get("type").asText())) {
      errors.add(at + ": expected " + schema.get("type").asText() + ", got " + value.getNodeType().toString().toLowerCase());
      return;
    }
    if (schema.has("const") && !schema.get("const").equals(value)) {
      errors.add(at + ": must be " + schema.get("const"));
    }
    if (schema.has("enum")) {
      boolean any = false;
      for (JsonNode option : schema.get("enum")) {
        any |= option.equals(value);
      }
      if (!any) {
        errors.add(at + ": must be one of " + schema.get("enum") + ", got " + value);
      }
    }
    if (schema.has("minimum") && value.isNumber() && value.asDouble() < schema.get("minimum").asDouble()) {
      errors.add(at + ": must be at least " + schema.get("minimum"));
    }
    if (value.isObject()) {
      for (JsonNode required : schema.path("required")) {
        if (!value.has(required.asText())) {
          errors.add(at + ": " + required.asText() + " is required");
        }
      }
      JsonNode properties = schema.path("properties");
      JsonNode additional = schema.path("additionalProperties");
      for (Map.Entry<String, JsonNode> field : value.properties()) {
        String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
        if (properties.has(field.getKey())) {
          validate(properties.get(field.getKey()), field.getValue(), child, errors);
        } else if (additional.isBoolean() && !additional.asBoolean()) {
          errors.add(at + ": unknown field " + field.getKey());
        } else if (additional.isObject()) {
          validate(additional, field.getValue(), child, errors);
        }
      }
    }
    if (value.isArray()) {
      if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
        errors.add(at + ": needs at least " + schema.get("minItems") + " items");
      }
      if (schema.has("items")) {
        for (int i = 0; i < value.size(); i++) {
          validate(schema.get("items"), value.get(i), path + "[" + i + "]", errors);
        }
      }
    }
  }

  private static boolean hasType(JsonNode value, String type) {
    return switch (type) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "integer" -> value.isIntegralNumber();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      default -> throw new IllegalArgumentException("type " + type + " is not supported here");
    };
  }
}
