package io.peftplatform.merge.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One parameter's value in a mergekit configuration, as mergekit reads it: a scalar; a list of numbers
 * (a gradient, interpolated over the layers of a slice at t = layer / (layers − 1)); a list of other
 * scalars (picked by t); or a list of {@code {filter, value}} entries, the first whose filter is absent,
 * {@code "*"} or a substring of the tensor's name deciding.
 */
public sealed interface ParameterSetting {

  /** The value for a tensor at layer fraction t; null when no conditional entry matches. */
  Object evaluate(String tensorName, double t);

  record Scalar(Object value) implements ParameterSetting {
    @Override
    public Object evaluate(String tensorName, double t) {
      return value;
    }
  }

  /** mergekit's gradient: the values spread evenly over t ∈ [0, 1], linearly interpolated. */
  record Gradient(double[] values) implements ParameterSetting {
    @Override
    public Object evaluate(String tensorName, double t) {
      double scaled = t * (values.length - 1);
      int i0 = (int) scaled;
      int i1 = Math.min(values.length - 1, i0 + 1);
      double frac = scaled - i0;
      return (1 - frac) * values[i0] + frac * values[i1];
    }
  }

  record Pick(List<Object> values) implements ParameterSetting {
    @Override
    public Object evaluate(String tensorName, double t) {
      return values.get((int) (t * (values.size() - 1)));
    }
  }

  record Conditional(List<Condition> conditions) implements ParameterSetting {
    @Override
    public Object evaluate(String tensorName, double t) {
      for (Condition c : conditions) {
        if (c.filter() == null || c.filter().equals("*") || (tensorName != null && tensorName.contains(c.filter()))) {
          return c.value().evaluate(tensorName, t);
        }
      }
      return null;
    }
  }

  record Condition(String filter, ParameterSetting value) {}

  /** Reads a setting; {@code field} names it in errors (e.g. {@code models[1].parameters.weight}). */
  static ParameterSetting read(JsonNode node, String field) {
    if (node.isNumber()) {
      return new Scalar(node.asDouble());
    }
    if (node.isBoolean()) {
      return new Scalar(node.asBoolean());
    }
    if (node.isTextual()) {
      return new Scalar(node.asText());
    }
    if (node.isObject()) {
      return new Conditional(List.of(condition(node, field)));
    }
    if (node.isArray() && !node.isEmpty()) {
      boolean numbers = true;
      boolean scalars = true;
      boolean objects = true;
      for (JsonNode e : node) {
        numbers &= e.isNumber();
        scalars &= e.isValueNode() && !e.isNull();
        objects &= e.isObject();
      }
      if (numbers) {
        double[] values = new double[node.size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = node.get(i).asDouble();
        }
        return new Gradient(values);
      }
      if (scalars) {
        List<Object> values = new ArrayList<>();
        node.forEach(e -> values.add(e.isBoolean() ? e.asBoolean() : e.isNumber() ? e.asDouble() : e.asText()));
        return new Pick(values);
      }
      if (objects) {
        List<Condition> conditions = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
          conditions.add(condition(node.get(i), field + "[" + i + "]"));
        }
        return new Conditional(conditions);
      }
    }
    throw new MergeConfigException(field + ": expected a number, a list of numbers (a gradient) or a list of {filter, value}, got "
        + node);
  }

  private static Condition condition(JsonNode node, String field) {
    node.fieldNames().forEachRemaining(k -> {
      if (!k.equals("filter") && !k.equals("value")) {
        throw new MergeConfigException(field + "." + k + ": unknown key (a conditional parameter has filter and value)");
      }
    });
    JsonNode value = node.get("value");
    if (value == null || value.isObject() || (value.isArray() && !value.isEmpty() && !value.get(0).isValueNode())) {
      throw new MergeConfigException(field + ".value: expected a number or a list of numbers");
    }
    JsonNode filter = node.get("filter");
    if (filter != null && !filter.isTextual() && !filter.isNull()) {
      throw new MergeConfigException(field + ".filter: expected text (a substring of tensor names)");
    }
    return new Condition(filter == null || filter.isNull() ? null : filter.asText(), read(value, field + ".value"));
  }
}
