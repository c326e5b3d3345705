package io.peftplatform.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.TargetModules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adapters on disk in Hugging Face PEFT's layout: {@code adapter_config.json} and
 * {@code adapter_model.safetensors} with keys {@code base_model.model.<module>.<tensor>}. LoRA and DoRA
 * are written as PEFT {@code LORA} (DoRA with {@code use_dora} and {@code lora_magnitude_vector}),
 * Kronecker as {@code LOKR}. NOLA has no PEFT type: its native file holds only the coefficients and the
 * basis seed ({@code peft_type} {@code NOLA}), and {@link #exportPeft} materialises it as a plain LoRA
 * adapter that PEFT, vLLM and LoRAX load.
 */
public final class AdapterFiles {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";
  public static final String PREFIX = "base_model.model.";
  /** The NOLA basis generator this code implements (see {@link NolaBasis}). */
  public static final String NOLA_GENERATOR = "splitmix64-uniform-v1";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KEY =
      Pattern.compile("base_model\\.model\\.(model\\.layers\\.(\\d+)\\.(?:self_attn|mlp)\\.(\\w+_proj))\\.(\\w+?)(\\.weight)?");

  private AdapterFiles() {}

  /** Writes the adapter in its own format: PEFT LORA / LOKR, or native NOLA. */
  public static void write(Adapter adapter, Path dir, String baseModel) {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    for (String name : adapter.parameters().names()) {
      tensors.put(peftKey(name), adapter.parameters().value(name));
    }
    writeDir(dir, config(adapter, baseModel, false), tensors);
  }

  /**
   * Writes a PEFT-loadable adapter: NOLA as a plain LoRA with its factors materialised from the
   * coefficients and the basis seed (the same ΔW), other methods as {@link #write} does.
   */
  public static void exportPeft(Adapter adapter, Path dir, String baseModel) {
    if (adapter.spec().method() != AdapterMethod.NOLA) {
      write(adapter, dir, baseModel);
      return;
    }
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    for (ModulePlan plan : adapter.plans().values()) {
      INDArray[] ab = NolaLinear.loraFactors(plan, adapter.parameters().value(plan.name("nola_alpha")),
          adapter.parameters().value(plan.name("nola_beta")), adapter.spec().seed());
      tensors.put(PREFIX + plan.module() + ".lora_A.weight", ab[0]);
      tensors.put(PREFIX + plan.module() + ".lora_B.weight", ab[1]);
    }
    writeDir(dir, config(adapter, baseModel, true), tensors);
  }

  /** The tensor's key in PEFT's adapter_model.safetensors ({@code base_model.model.…}) for a parameter store name. */
  public static String peftKey(String storeName) {
    String tensor = storeName.substring(storeName.lastIndexOf('.') + 1);
    boolean linearModule = tensor.equals("lora_A") || tensor.equals("lora_B");
    return PREFIX + storeName + (linearModule ? ".weight" : "");
  }

  private static ObjectNode config(Adapter adapter, String baseModel, boolean nolaAsLora) {
    AdapterSpec spec = adapter.spec();
    ObjectNode c = JSON.createObjectNode();
    TreeSet<String> targets = new TreeSet<>();
    adapter.plans().keySet().forEach(m -> targets.add(m.substring(m.lastIndexOf('.') + 1)));
    c.put("base_model_name_or_path", baseModel);
    c.put("task_type", "CAUSAL_LM");
    c.put("inference_mode", true);
    c.putArray("target_modules").addAll(targets.stream().map(JSON.getNodeFactory()::textNode).toList());
    c.putObject("rank_pattern");
    c.putObject("alpha_pattern");
    c.putNull("modules_to_save");
    c.putNull("layers_to_transform");
    c.putNull("layers_pattern");
    c.putNull("revision");
    c.put("r", spec.rank());
    switch (spec.method()) {
      case LORA, DORA -> loraFields(c, spec, spec.method() == AdapterMethod.DORA);
      case KRONECKER -> {
        c.put("peft_type", "LOKR");
        c.put("alpha", spec.alpha());
        c.put("rank_dropout", 0.0);
        c.put("module_dropout", 0.0);
        c.put("rank_dropout_scale", false);
        c.put("decompose_both", spec.kronDecomposeBoth());
        c.put("decompose_factor", spec.kronFactor());
        c.put("use_effective_conv2d", false);
        c.put("init_weights", true);
      }
      case NOLA -> {
        loraFields(c, spec, false);
        if (!nolaAsLora) {
          c.put("peft_type", "NOLA");
          c.put("num_basis_a", spec.nolaBasesA());
          c.put("num_basis_b", spec.nolaBasesB());
          c.put("basis_seed", spec.seed());
          c.put("basis_generator", NOLA_GENERATOR);
        }
      }
    }
    return c;
  }

  private static void loraFields(ObjectNode c, AdapterSpec spec, boolean dora) {
    c.put("peft_type", "LORA");
    c.put("lora_alpha", spec.alpha());
    c.put("lora_dropout", spec.dropout());
    c.put("bias", "none");
    c.put("fan_in_fan_out", false);
    c.put("use_rslora", spec.useRslora());
    c.put("use_dora", dora);
    c.put("init_lora_weights", true);
  }

  private static void writeDir(Path dir, ObjectNode config, Map<String, INDArray> tensors) {
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    tensors.forEach((key, a) -> {
      INDArray c = a.dup('c');
      if (c.dataType() == DataType.DOUBLE) {
        writer.add(key, DType.F32, a.shape(), c.data().asDouble());
      } else {
        writer.add(key, DType.F32, a.shape(), c.data().asFloat());
      }
    });
    try {
      Files.createDirectories(dir);
      writer.write(dir.resolve(WEIGHTS));
      Files.writeString(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write adapter to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Reads an adapter made by this platform or by Hugging Face PEFT (LORA with or without DoRA/rsLoRA, LOKR). */
  public static Adapter read(Path dir, LlamaConfig config, DataType dataType) {
    Path configFile = dir.resolve(CONFIG);
    Path weightsFile = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(configFile)) {
      throw new AdapterException(dir + ": no " + CONFIG + " (not an adapter directory)");
    }
    JsonNode c;
    try {
      c = JSON.readTree(configFile.toFile());
    } catch (IOException e) {
      throw new AdapterException(configFile + ": not valid JSON: " + e.getMessage());
    }
    String type = c.path("peft_type").asText("");
    AdapterMethod method = switch (type) {
      case "LORA" -> c.path("use_dora").asBoolean(false) ? AdapterMethod.DORA : AdapterMethod.LORA;
      case "LOKR" -> AdapterMethod.KRONECKER;
      case "NOLA" -> AdapterMethod.NOLA;
      default -> throw new AdapterException(configFile + ": peft_type '" + type
          + "' is not supported; supported: LORA (with use_dora, use_rslora), LOKR, NOLA");
    };
    unsupported(configFile, c, "modules_to_save", !c.path("modules_to_save").isNull() && !c.path("modules_to_save").isMissingNode()
        && !(c.path("modules_to_save").isArray() && c.path("modules_to_save").isEmpty()));
    unsupported(configFile, c, "bias", !c.path("bias").asText("none").equals("none"));
    unsupported(configFile, c, "fan_in_fan_out", c.path("fan_in_fan_out").asBoolean(false));
    unsupported(configFile, c, "use_effective_conv2d", false);
    if (method == AdapterMethod.NOLA && !c.path("basis_generator").asText("").equals(NOLA_GENERATOR)) {
      throw new AdapterException(configFile + ": NOLA basis_generator '" + c.path("basis_generator").asText("")
          + "' is not supported (supported: " + NOLA_GENERATOR + ")");
    }
    int r = c.path("r").asInt(8);
    double alpha = method == AdapterMethod.KRONECKER ? c.path("alpha").asDouble(r) : c.path("lora_alpha").asDouble(r);
    boolean rslora = c.path("use_rslora").asBoolean(false);
    List<String> targets = new ArrayList<>();
    c.path("target_modules").forEach(t -> targets.add(t.asText()));
    AdapterSpec spec = new AdapterSpec(method, r, alpha,
        method == AdapterMethod.KRONECKER ? 0.0 : c.path("lora_dropout").asDouble(0.0),
        targets.isEmpty() ? List.of(TargetModules.ALL_LINEAR) : targets, rslora && method != AdapterMethod.KRONECKER,
        c.path("num_basis_a").asInt(1), c.path("num_basis_b").asInt(1), c.path("decompose_factor").asInt(-1),
        c.path("decompose_both").asBoolean(false), c.path("basis_seed").asLong(0));

    try (SafetensorsFile weights = SafetensorsFile.open(weightsFile)) {
      // Modules in model order (layer, then forward order), as a new adapter lays them out.
      Map<String, Map<String, TensorInfo>> byModule = new java.util.TreeMap<>(Comparator
          .comparingInt((String m) -> Integer.parseInt(m.split("\\.")[2]))
          .thenComparingInt(m -> WeightNames.LINEAR_MODULES.indexOf(m.substring(m.lastIndexOf('.') + 1))));
      for (String key : weights.names()) {
        Matcher m = KEY.matcher(key);
        if (!m.matches()) {
          throw new AdapterException(weightsFile + ": tensor '" + key + "' is not an adapter tensor of a decoder linear module");
        }
        int layer = Integer.parseInt(m.group(2));
        if (layer >= config.numLayers() || !WeightNames.LINEAR_MODULES.contains(m.group(3))) {
          throw new AdapterException(weightsFile + ": tensor '" + key + "' names module " + m.group(1)
              + ", which the model (" + config.numLayers() + " layers) does not have");
        }
        byModule.computeIfAbsent(m.group(1), k -> new LinkedHashMap<>()).put(m.group(4), weights.info(key));
      }
      if (byModule.isEmpty()) {
        throw new AdapterException(weightsFile + ": holds no adapter tensors");
      }
      Map<String, ModulePlan> plans = new LinkedHashMap<>();
      for (var e : byModule.entrySet()) {
        plans.put(e.getKey(), plan(weightsFile, c, spec, config, e.getKey(), e.getValue()));
      }
      Adapter adapter = Adapter.empty(spec, config, plans, dataType);
      for (String name : adapter.parameters().names()) {
        String key = peftKey(name);
        TensorInfo info = weights.find(key).orElseThrow(() -> new AdapterException(weightsFile + ": missing tensor " + key));
        INDArray target = adapter.parameters().value(name);
        if (!Arrays.equals(info.shape(), target.shape())) {
          throw new AdapterException(weightsFile + ": tensor " + key + " has shape " + info.shapeString()
              + ", expected " + Arrays.toString(target.shape()));
        }
        float[] values = weights.readFloats(key);
        target.assign(Nd4j.create(values, target.shape(), 'c').castTo(dataType));
      }
      adapter.markLoaded();
      return adapter;
    } catch (SafetensorsException e) {
      throw new AdapterException(e.getMessage(), e);
    }
  }

  private static void unsupported(Path file, JsonNode c, String field, boolean present) {
    if (present) {
      throw new AdapterException(file + ": " + field + " = " + c.path(field) + " is not supported");
    }
  }

  /** The plan of one module from its tensors' shapes, the per-module patterns and the base sizes. */
  private static ModulePlan plan(Path file, JsonNode c, AdapterSpec spec, LlamaConfig config, String module, Map<String, TensorInfo> t) {
    int[] io = Adapter.dimensions(config, module);
    int in = io[0];
    int out = io[1];
    int rank = patterned(c.path("rank_pattern"), module, spec.rank());
    double alpha = patterned(c.path("alpha_pattern"), module, spec.alpha());
    switch (spec.method()) {
      case LORA, DORA -> {
        TensorInfo a = require(file, module, t, "lora_A");
        rank = (int) a.shape()[0];
        double s = spec.useRslora() ? alpha / Math.sqrt(rank) : alpha / rank;
        return new ModulePlan(module, in, out, rank, s, null);
      }
      case NOLA -> {
        return new ModulePlan(module, in, out, rank, alpha / rank, null);
      }
      default -> {
        long[] w1 = t.containsKey("lokr_w1") ? t.get("lokr_w1").shape()
            : new long[] {require(file, module, t, "lokr_w1_a").shape()[0], require(file, module, t, "lokr_w1_b").shape()[1]};
        long[] w2 = t.containsKey("lokr_w2") ? t.get("lokr_w2").shape()
            : new long[] {require(file, module, t, "lokr_w2_a").shape()[0], require(file, module, t, "lokr_w2_b").shape()[1]};
        if (t.containsKey("lokr_t2")) {
          throw new AdapterException(file + ": " + module + " has lokr_t2 (effective conv2d), which Linear layers do not use");
        }
        if (w1.length != 2 || w2.length != 2 || w1[0] * w2[0] != out || w1[1] * w2[1] != in) {
          throw new AdapterException(file + ": " + module + " Kronecker factors " + Arrays.toString(w1) + " ⊗ "
              + Arrays.toString(w2) + " do not make its " + out + "x" + in + " weight");
        }
        if (!t.containsKey("lokr_w1")) {
          rank = (int) t.get("lokr_w1_a").shape()[1];
        } else if (!t.containsKey("lokr_w2")) {
          rank = (int) t.get("lokr_w2_a").shape()[1];
        }
        Kronecker.Shape shape = new Kronecker.Shape((int) w1[0], (int) w1[1], (int) w2[0], (int) w2[1],
            t.containsKey("lokr_w1"), t.containsKey("lokr_w2"));
        return new ModulePlan(module, in, out, rank, alpha / rank, shape);
      }
    }
  }

  private static TensorInfo require(Path file, String module, Map<String, TensorInfo> t, String tensor) {
    TensorInfo info = t.get(tensor);
    if (info == null) {
      throw new AdapterException(file + ": module " + module + " has no " + tensor);
    }
    return info;
  }

  /** PEFT's rank_pattern / alpha_pattern: a key matches a module whose path ends with it (regex). */
  private static <T extends Number> T patterned(JsonNode patterns, String module, T fallback) {
    if (patterns == null || !patterns.isObject()) {
      return fallback;
    }
    for (var it = patterns.fields(); it.hasNext(); ) {
      var e = it.next();
      if (Pattern.compile("(.*\\.)?" + e.getKey() + "$").matcher(module).matches()) {
        @SuppressWarnings("unchecked")
        T value = (T) (fallback instanceof Integer ? (Number) e.getValue().asInt() : (Number) e.getValue().asDouble());
        return value;
      }
    }
    return fallback;
  }
}
