package io.peftplatform.merge.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.peftplatform.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A whole-model merge in mergekit's YAML: {@code merge_method}, {@code base_model}, either {@code models}
 * (every layer of each) or {@code slices} (layer ranges stacked into the output), {@code parameters},
 * {@code dtype}/{@code out_dtype}, {@code tokenizer_source}, {@code chat_template}. Model references stay
 * strings here ({@link ModelReference} resolves them). The {@code models} form is kept as one slice whose
 * sources span every layer ({@link Source#ALL_LAYERS}), as mergekit normalises it.
 *
 * @param notes what was accepted but has no effect here (e.g. {@code int8_mask}), shown to the user
 */
public record MergeConfig(
    WholeModelMethod method,
    String baseModel,
    boolean modelsForm,
    List<Slice> slices,
    Map<String, ParameterSetting> parameters,
    DType outputDtype,
    String tokenizerSource,
    String chatTemplate,
    List<String> notes) {

  /** A model's layers [layerStart, layerEnd) in one output slice, with its own parameters. */
  public record Source(String model, int layerStart, int layerEnd, Map<String, ParameterSetting> parameters) {
    /** layerEnd of a {@code models:} entry: the model's every layer. */
    public static final int ALL_LAYERS = -1;
  }

  public record Slice(List<Source> sources, String baseModel, Map<String, ParameterSetting> parameters) {}

  private static final Set<String> TOP_KEYS = Set.of("merge_method", "base_model", "models", "slices", "parameters", "dtype",
      "out_dtype", "tokenizer_source", "chat_template", "modules", "tokenizer", "name");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /** Models of one slice (or of {@code models:}): each holds a tensor in memory while it merges. */
  public static final int MAX_SOURCES = 32;
  public static final int MAX_SLICES = 256;

  public static MergeConfig read(Path file) {
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new MergeConfigException(file + ": cannot read: " + e.getMessage());
    }
  }

  public static MergeConfig parse(String yaml) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new MergeConfigException("not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }
    if (root == null || !root.isObject()) {
      throw new MergeConfigException("a merge configuration is a YAML mapping with merge_method and models or slices");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!TOP_KEYS.contains(key)) {
        throw new MergeConfigException(key + ": unknown key; a mergekit configuration has merge_method, base_model, models or slices, "
            + "parameters, dtype, out_dtype, tokenizer_source, chat_template");
      }
    }
    if (root.has("modules")) {
      throw new MergeConfigException("modules: per-module definitions are for multi-module architectures; a Llama model takes models or slices");
    }
    if (root.has("tokenizer")) {
      throw new MergeConfigException("tokenizer: building a merged vocabulary is not supported; use tokenizer_source: base or a model of the merge");
    }
    List<String> notes = new ArrayList<>();
    WholeModelMethod method = WholeModelMethod.byName(text(root, "merge_method", true));
    String base = text(root, "base_model", false);
    boolean hasModels = root.has("models");
    boolean hasSlices = root.has("slices");
    if (hasModels == hasSlices) {
      throw new MergeConfigException(hasModels ? "models and slices: give one of them, not both" : "models: required (or slices)");
    }
    List<Slice> slices = new ArrayList<>();
    if (hasModels) {
      JsonNode models = list(root, "models");
      if (models.size() > MAX_SOURCES) {
        throw new MergeConfigException("models: " + models.size() + " given; at most " + MAX_SOURCES);
      }
      List<Source> sources = new ArrayList<>();
      for (int i = 0; i < models.size(); i++) {
        JsonNode m = models.get(i);
        String field = "models[" + i + "]";
        JsonNode entry = m.isTextual() ? YAML.createObjectNode().put("model", m.asText()) : m;
        if (!entry.isObject()) {
          throw new MergeConfigException(field + ": expected {model, parameters}");
        }
        only(entry, field, "model", "parameters");
        sources.add(new Source(text(entry, "model", true, field), 0, Source.ALL_LAYERS, parameters(entry, field)));
      }
      slices.add(new Slice(sources, base, Map.of()));
    } else {
      JsonNode list = list(root, "slices");
      if (list.size() > MAX_SLICES) {
        throw new MergeConfigException("slices: " + list.size() + " given; at most " + MAX_SLICES);
      }
      for (int i = 0; i < list.size(); i++) {
        String field = "slices[" + i + "]";
        JsonNode s = list.get(i);
        if (!s.isObject()) {
          throw new MergeConfigException(field + ": expected {sources, base_model, parameters}");
        }
        only(s, field, "sources", "base_model", "parameters", "residual_weight");
        if (s.has("residual_weight")) {
          throw new MergeConfigException(field + ".residual_weight: not supported");
        }
        JsonNode srcs = list(s, "sources", field);
        if (srcs.size() > MAX_SOURCES) {
          throw new MergeConfigException(field + ".sources: " + srcs.size() + " given; at most " + MAX_SOURCES);
        }
        List<Source> sources = new ArrayList<>();
        for (int j = 0; j < srcs.size(); j++) {
          String f = field + ".sources[" + j + "]";
          JsonNode src = srcs.get(j);
          if (!src.isObject()) {
            throw new MergeConfigException(f + ": expected {model, layer_range, parameters}");
          }
          only(src, f, "model", "layer_range", "parameters");
          JsonNode range = src.get("layer_range");
          if (range == null || !range.isArray() || range.size() != 2 || !range.get(0).canConvertToInt() || !range.get(1).canConvertToInt()
              || !range.get(0).isIntegralNumber() || !range.get(1).isIntegralNumber()) {
            throw new MergeConfigException(f + ".layer_range: expected [start, end], two whole numbers");
          }
          int start = range.get(0).asInt();
          int end = range.get(1).asInt();
          if (start < 0 || end <= start) {
            throw new MergeConfigException(f + ".layer_range: [" + start + ", " + end + "] is empty or negative");
          }
          sources.add(new Source(text(src, "model", true, f), start, end, parameters(src, f)));
        }
        int length = sources.get(0).layerEnd() - sources.get(0).layerStart();
        for (int j = 1; j < sources.size(); j++) {
          if (sources.get(j).layerEnd() - sources.get(j).layerStart() != length) {
            throw new MergeConfigException(field + ".sources: every source of a slice spans the same number of layers (" + length
                + " and " + (sources.get(j).layerEnd() - sources.get(j).layerStart()) + ")");
          }
        }
        String sliceBase = text(s, "base_model", false, field);
        slices.add(new Slice(sources, sliceBase != null ? sliceBase : base, parameters(s, field)));
      }
    }
    Map<String, ParameterSetting> parameters = parameters(root, "");
    checkParameterNames(method, parameters, slices, notes);
    DType dtype = dtype(root, "dtype");
    DType outDtype = dtype(root, "out_dtype");
    String tokenizerSource = text(root, "tokenizer_source", false);
    if ("union".equals(tokenizerSource)) {
      throw new MergeConfigException("tokenizer_source: union (a merged vocabulary) is not supported; use base or one model of the merge");
    }
    String chatTemplate = text(root, "chat_template", false);
    if (chatTemplate != null && !chatTemplate.equals("chatml") && !chatTemplate.contains("{{") && !chatTemplate.contains("{%")) {
      throw new MergeConfigException("chat_template: '" + chatTemplate + "' is neither chatml nor a Jinja template");
    }
    return new MergeConfig(method, base, hasModels, List.copyOf(slices), parameters, outDtype != null ? outDtype : dtype,
        tokenizerSource, chatTemplate, List.copyOf(notes));
  }

  /** Every model the merge reads, base first, each once. */
  public List<String> referencedModels() {
    List<String> out = new ArrayList<>();
    if (baseModel != null) {
      out.add(baseModel);
    }
    for (Slice s : slices) {
      if (s.baseModel() != null && !out.contains(s.baseModel())) {
        out.add(s.baseModel());
      }
      for (Source src : s.sources()) {
        if (!out.contains(src.model())) {
          out.add(src.model());
        }
      }
    }
    return out;
  }

  private static void checkParameterNames(WholeModelMethod method, Map<String, ParameterSetting> global, List<Slice> slices,
      List<String> notes) {
    Set<String> known = new HashSet<>(method.globalParameters().keySet());
    known.addAll(method.tensorParameters().keySet());
    List<Map<String, ParameterSetting>> all = new ArrayList<>();
    all.add(global);
    for (Slice s : slices) {
      all.add(s.parameters());
      s.sources().forEach(src -> all.add(src.parameters()));
    }
    Set<String> unused = new TreeSet<>();
    for (Map<String, ParameterSetting> m : all) {
      for (String name : m.keySet()) {
        if (!known.contains(name)) {
          unused.add(name);
        }
      }
    }
    for (String name : unused) {
      notes.add("parameter " + name + " is not read by " + method.configName() + "; ignored");
    }
    if (all.stream().anyMatch(m -> m.containsKey("int8_mask"))) {
      notes.add("int8_mask ignored: masks and sums are computed in fp64 here");
    }
  }

  /** The name {@code config.json}'s {@code torch_dtype} gives a stored type. */
  public static String dtypeName(DType dtype) {
    return switch (dtype) {
      case F16 -> "float16";
      case BF16 -> "bfloat16";
      case F64 -> "float64";
      case F32 -> "float32";
      default -> throw new IllegalArgumentException(dtype + " is not a floating-point type");
    };
  }

  private static DType dtype(JsonNode root, String field) {
    String name = text(root, field, false);
    if (name == null) {
      return null;
    }
    return switch (name) {
      case "float16", "fp16", "half" -> DType.F16;
      case "bfloat16", "bf16" -> DType.BF16;
      case "float32", "fp32", "float" -> DType.F32;
      case "float64", "fp64", "double" -> DType.F64;
      default -> throw new MergeConfigException(field + ": '" + name + "' is not one of float16, bfloat16, float32, float64");
    };
  }

  private static Map<String, ParameterSetting> parameters(JsonNode node, String field) {
    JsonNode p = node.get("parameters");
    String prefix = field.isEmpty() ? "parameters" : field + ".parameters";
    if (p == null || p.isNull()) {
      return Map.of();
    }
    if (!p.isObject()) {
      throw new MergeConfigException(prefix + ": expected a mapping of parameter names to values");
    }
    Map<String, ParameterSetting> out = new LinkedHashMap<>();
    p.fields().forEachRemaining(e -> out.put(e.getKey(), ParameterSetting.read(e.getValue(), prefix + "." + e.getKey())));
    return out;
  }

  private static JsonNode list(JsonNode node, String key) {
    return list(node, key, "");
  }

  private static JsonNode list(JsonNode node, String key, String field) {
    JsonNode v = node.get(key);
    String name = field.isEmpty() ? key : field + "." + key;
    if (v == null || !v.isArray() || v.isEmpty()) {
      throw new MergeConfigException(name + ": expected a non-empty list");
    }
    return v;
  }

  private static String text(JsonNode node, String key, boolean required) {
    return text(node, key, required, "");
  }

  private static String text(JsonNode node, String key, boolean required, String field) {
    JsonNode v = node.get(key);
    String name = field.isEmpty() ? key : field + "." + key;
    if (v == null || v.isNull()) {
      if (required) {
        throw new MergeConfigException(name + ": required");
      }
      return null;
    }
    if (!v.isTextual() || v.asText().isBlank()) {
      throw new MergeConfigException(name + ": expected text, got " + v);
    }
    return v.asText();
  }

  private static void only(JsonNode node, String field, String... keys) {
    Set<String> allowed = Set.of(keys);
    node.fieldNames().forEachRemaining(k -> {
      if (!allowed.contains(k)) {
        throw new MergeConfigException(field + "." + k + ": unknown key (expected " + String.join(", ", keys) + ")");
      }
    });
  }
}
