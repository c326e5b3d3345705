package io.peftplatform.llama.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code config.json}: the Llama architecture and its config-level relatives Mistral (sliding
 * window) and Qwen2 (q/k/v biases). Unknown architectures and features this engine does not implement
 * fail here, naming what is unsupported.
 *
 * @param attentionQkvBias q_proj, k_proj, v_proj have biases (Qwen2; Llama's attention_bias)
 * @param attentionOutputBias o_proj has a bias (Llama's attention_bias)
 * @param slidingWindow attend to at most this many previous positions (Mistral), or 0 for no limit
 * @param eosTokenIds every id that ends generation (config.json and generation_config.json merged)
 */
public record LlamaConfig(
    String architecture,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean attentionQkvBias,
    boolean attentionOutputBias,
    boolean mlpBias,
    int slidingWindow,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    String torchDtype) {

  public static final String LLAMA = "LlamaForCausalLM";
  public static final String MISTRAL = "MistralForCausalLM";
  public static final String QWEN2 = "Qwen2ForCausalLM";
  public static final List<String> SUPPORTED_ARCHITECTURES = List.of(LLAMA, MISTRAL, QWEN2);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> MODEL_TYPES =
      Map.of(LLAMA, "llama", MISTRAL, "mistral", QWEN2, "qwen2");

  public LlamaConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
    check(hiddenSize > 0 && numLayers > 0 && numHeads > 0 && numKvHeads > 0 && vocabSize > 0,
        "hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads and vocab_size must be positive");
    check(numHeads % numKvHeads == 0,
        "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
    check(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even, got " + headDim);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new ModelException("config.json: " + message);
    }
  }

  /** Query heads per key/value head (grouped-query attention). */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  public int qDim() {
    return numHeads * headDim;
  }

  public int kvDim() {
    return numKvHeads * headDim;
  }

  public String modelType() {
    return MODEL_TYPES.get(architecture);
  }

  /** Total parameters, counting a tied embedding once. */
  public long parameterCount() {
    long d = hiddenSize;
    long perLayer =
        2 * d // norms
            + d * qDim() + 2 * d * kvDim() + (long) qDim() * d // q, k, v, o
            + 3 * d * intermediateSize // gate, up, down
            + (attentionQkvBias ? qDim() + 2L * kvDim() : 0)
            + (attentionOutputBias ? d : 0)
            + (mlpBias ? 2L * intermediateSize + d : 0);
    long embed = (long) vocabSize * d;
    return embed + numLayers * perLayer + d + (tieWordEmbeddings ? 0 : embed);
  }

  public static LlamaConfig read(Path modelDir) {
    Path file = modelDir.resolve("config.json");
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new ModelException(modelDir + ": no config.json (not a Hugging Face model directory)");
    } catch (IOException e) {
      throw new ModelException(file + ": not valid JSON: " + e.getMessage());
    }
    JsonNode generation = null;
    Path generationFile = modelDir.resolve("generation_config.json");
    if (Files.isRegularFile(generationFile)) {
      try {
        generation = JSON.readTree(Files.readString(generationFile));
      } catch (IOException e) {
        throw new ModelException(generationFile + ": not valid JSON: " + e.getMessage());
      }
    }
    try {
      return fromJson(root, generation);
    } catch (ModelException e) {
      throw new ModelException(modelDir + "/" + e.getMessage());
    }
  }

  /** Parses config.json (and generation_config.json, which may be null). */
  public static LlamaConfig fromJson(JsonNode c, JsonNode generation) {
    if (c == null || !c.isObject()) {
      throw new ModelException("config.json: not a JSON object");
    }
    String architecture = architecture(c);
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new ModelException("config.json: hidden_act '" + act + "' is not supported (only silu)");
    }
    int hidden = requireInt(c, "hidden_size");
    int heads = requireInt(c, "num_attention_heads");
    int kvHeads = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
        ? c.get("num_key_value_heads").asInt() : heads;
    int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
    boolean qwen2 = architecture.equals(QWEN2);
    boolean attentionBias = c.path("attention_bias").asBoolean(false);
    int slidingWindow = 0;
    if (architecture.equals(MISTRAL) && c.hasNonNull("sliding_window")) {
      slidingWindow = c.get("sliding_window").asInt();
    }
    if (qwen2 && c.path("use_sliding_window").asBoolean(false)) {
      throw new ModelException("config.json: Qwen2 use_sliding_window=true is not supported");
    }
    List<Integer> eos = new ArrayList<>();
    addIds(eos, c.get("eos_token_id"));
    if (generation != null) {
      addIds(eos, generation.get("eos_token_id"));
    }
    Integer bos = c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : null;
    return new LlamaConfig(
        architecture,
        requireInt(c, "vocab_size"),
        hidden,
        requireInt(c, "intermediate_size"),
        requireInt(c, "num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        c.path("rms_norm_eps").asDouble(1e-6),
        c.path("rope_theta").asDouble(10000.0),
        ropeScaling(c.get("rope_scaling")),
        c.path("max_position_embeddings").asInt(2048),
        c.path("tie_word_embeddings").asBoolean(false),
        qwen2 || attentionBias,
        !qwen2 && attentionBias,
        c.path("mlp_bias").asBoolean(false),
        slidingWindow,
        bos,
        eos,
        c.path("torch_dtype").asText(c.path("dtype").asText("float32")));
  }

  private static String architecture(JsonNode c) {
    JsonNode archs = c.get("architectures");
    if (archs == null || !archs.isArray() || archs.isEmpty()) {
      String modelType = c.path("model_type").asText("");
      for (var e : MODEL_TYPES.entrySet()) {
        if (e.getValue().equals(modelType)) {
          return e.getKey();
        }
      }
      throw new ModelException(
          "config.json: no 'architectures' entry and model_type '" + modelType
              + "' is not one of the supported " + MODEL_TYPES.values());
    }
    String arch = archs.get(0).asText();
    if (!SUPPORTED_ARCHITECTURES.contains(arch)) {
      throw new ModelException(
          "config.json: architecture " + arch + " is not supported; supported: "
              + String.join(", ", SUPPORTED_ARCHITECTURES));
    }
    return arch;
  }

  private static RopeScaling ropeScaling(JsonNode r) {
    if (r == null || r.isNull()) {
      return null;
    }
    String type = r.has("rope_type") ? r.get("rope_type").asText() : r.path("type").asText("default");
    return switch (type) {
      case "default" -> null;
      case "linear" -> RopeScaling.linear(requireDouble(r, "factor"));
      case "llama3" -> RopeScaling.llama3(
          requireDouble(r, "factor"),
          requireDouble(r, "low_freq_factor"),
          requireDouble(r, "high_freq_factor"),
          (int) requireDouble(r, "original_max_position_embeddings"));
      default -> throw new ModelException(
          "config.json: rope_scaling type '" + type + "' is not supported (supported: llama3, linear)");
    };
  }

  private static void addIds(List<Integer> out, JsonNode ids) {
    if (ids == null || ids.isNull()) {
      return;
    }
    if (ids.isArray()) {
      ids.forEach(i -> addIds(out, i));
    } else if (!out.contains(ids.asInt())) {
      out.add(ids.asInt());
    }
  }

  private static int requireInt(JsonNode c, String field) {
    JsonNode n = c.get(field);
    if (n == null || !n.isIntegralNumber()) {
      throw new ModelException("config.json: '" + field + "' is missing or not an integer");
    }
    return n.asInt();
  }

  private static double requireDouble(JsonNode c, String field) {
    JsonNode n = c.get(field);
    if (n == null || !n.isNumber()) {
      throw new ModelException("config.json: rope_scaling '" + field + "' is missing or not a number");
    }
    return n.asDouble();
  }

  /** config.json as Hugging Face transformers writes it for this architecture. */
  public ObjectNode toJson() {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add(architecture);
    c.put("model_type", modelType());
    c.put("vocab_size", vocabSize);
    c.put("hidden_size", hiddenSize);
    c.put("intermediate_size", intermediateSize);
    c.put("num_hidden_layers", numLayers);
    c.put("num_attention_heads", numHeads);
    c.put("num_key_value_heads", numKvHeads);
    c.put("head_dim", headDim);
    c.put("hidden_act", "silu");
    c.put("rms_norm_eps", rmsNormEps);
    c.put("rope_theta", ropeTheta);
    if (ropeScaling == null) {
      c.putNull("rope_scaling");
    } else {
      ObjectNode r = c.putObject("rope_scaling");
      r.put("rope_type", ropeScaling.type());
      r.put("factor", ropeScaling.factor());
      if (ropeScaling.type().equals("llama3")) {
        r.put("low_freq_factor", ropeScaling.lowFreqFactor());
        r.put("high_freq_factor", ropeScaling.highFreqFactor());
        r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
      }
    }
    c.put("max_position_embeddings", maxPositionEmbeddings);
    c.put("tie_word_embeddings", tieWordEmbeddings);
    if (architecture.equals(LLAMA)) {
      c.put("attention_bias", attentionQkvBias);
      c.put("mlp_bias", mlpBias);
    }
    if (architecture.equals(MISTRAL)) {
      if (slidingWindow > 0) {
        c.put("sliding_window", slidingWindow);
      } else {
        c.putNull("sliding_window");
      }
    }
    if (architecture.equals(QWEN2)) {
      c.put("use_sliding_window", false);
    }
    if (bosTokenId != null) {
      c.put("bos_token_id", bosTokenId);
    }
    if (eosTokenIds.size() == 1) {
      c.put("eos_token_id", eosTokenIds.get(0));
    } else if (!eosTokenIds.isEmpty()) {
      eosTokenIds.forEach(c.withArray("eos_token_id")::add);
    }
    c.put("torch_dtype", torchDtype);
    c.put("transformers_version", "4.46.0");
    return c;
  }
}
