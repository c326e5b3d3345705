package io.peftplatform.jobs.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.events.JobSpec;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.KnownFields;
import io.peftplatform.service.problem.RequestValues;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A job creation request in OpenAI's shape, checked field by field (every refusal names the field, as a
 * JSON path) and resolved: defaults filled in, "auto" values chosen, the worker's {@link JobSpec} built.
 * The objective is OpenAI's {@code method}; how it is trained — which adapter — is this platform's one
 * extension object, {@code adapter} (the default LoRA without it), and its extra hyperparameters sit
 * beside OpenAI's.
 *
 * <pre>
 * {"model": "model-…", "training_file": "file-…", "validation_file": "file-…",
 *  "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 8,
 *             "learning_rate_multiplier": 1.0, "max_steps": 0, "lr_scheduler": "linear", …}}},
 *  "adapter": {"type": "lora", "rank": 8, "alpha": 16, "dropout": 0, "target_modules": "all-linear", "use_rslora": false},
 *  "seed": 42, "suffix": "support-bot", "metadata": {"team": "search"}}
 * </pre>
 *
 * OpenAI's older top-level {@code hyperparameters} is read as the supervised method's.
 */
public record JobRequest(String model, String trainingFile, String validationFile, ObjectNode method, ObjectNode hyperparameters,
    ObjectNode adapter, JobSpec spec, long seed, String suffix, Map<String, String> metadata) {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> ADAPTERS = Set.of("lora", "dora", "nola", "kronecker");
  static final Set<String> MODULES = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
  /** The learning rate {@code learning_rate_multiplier} multiplies: PEFT's usual LoRA rate. */
  public static final double BASE_LEARNING_RATE = 2e-4;
  private static final SecureRandom RANDOM = new SecureRandom();

  public static JobRequest parse(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    KnownFields.check(body, "", Set.of("model", "training_file", "validation_file", "method", "hyperparameters", "adapter", "seed",
        "suffix", "metadata", "integrations"));
    String model = requiredId(body, "model", "model-");
    String training = requiredId(body, "training_file", "file-");
    String validation = body.hasNonNull("validation_file") ? requiredId(body, "validation_file", "file-") : null;

    // The objective: OpenAI's method.
    JsonNode m = object(body.path("method"), "method");
    KnownFields.check(m, "method.", Set.of("type", "supervised", "dpo", "reinforcement"));
    String objective = m.path("type").isMissingNode() || m.path("type").isNull() ? "supervised" : text(m.path("type"), "method.type");
    switch (objective) {
      case "supervised" -> {}
      case "dpo" -> throw ApiException.badRequest("dpo (preference tuning) is not available yet; use \"supervised\"", "method.type");
      case "reinforcement" -> throw ApiException.badRequest("reinforcement fine-tuning is not supported; use \"supervised\"", "method.type");
      default -> throw ApiException.badRequest("must be supervised or dpo; got '" + objective + "'", "method.type");
    }
    for (String other : List.of("dpo", "reinforcement")) {
      if (m.hasNonNull(other)) {
        throw ApiException.badRequest("is for method.type \"" + other + "\", not \"supervised\"", "method." + other);
      }
    }
    JsonNode supervised = object(m.path("supervised"), "method.supervised");
    KnownFields.check(supervised, "method.supervised.", Set.of("hyperparameters"));
    JsonNode h = object(supervised.path("hyperparameters"), "method.supervised.hyperparameters");
    String hp = "method.supervised.hyperparameters.";
    JsonNode legacy = object(body.path("hyperparameters"), "hyperparameters");
    if (!legacy.isMissingNode() && !legacy.isNull()) {
      if (!h.isMissingNode() && !h.isNull()) {
        throw ApiException.badRequest("give the hyperparameters once, in method.supervised.hyperparameters", "hyperparameters");
      }
      h = legacy;
      hp = "hyperparameters.";
    }

    // How: the adapter (this platform's extension).
    JsonNode a = object(body.path("adapter"), "adapter");
    String type = a.path("type").isMissingNode() || a.path("type").isNull() ? "lora" : text(a.path("type"), "adapter.type");
    if (!ADAPTERS.contains(type)) {
      throw ApiException.badRequest("must be one of lora, dora, nola, kronecker; got '" + type + "'", "adapter.type");
    }
    String pp = "adapter.";
    KnownFields.check(a, pp, switch (type) {
      case "nola" -> Set.of("type", "rank", "alpha", "dropout", "target_modules", "num_bases");
      case "kronecker" -> Set.of("type", "rank", "alpha", "dropout", "target_modules", "factor");
      default -> Set.of("type", "rank", "alpha", "dropout", "target_modules", "use_rslora");
    });
    int rank = intIn(a, "rank", pp, 8, 1, 1024);
    double alpha = number(a, "alpha", pp, 2.0 * rank, 1e-9, 1e6);
    double dropout = number(a, "dropout", pp, 0.0, 0.0, 0.99);
    List<String> targets = targets(a.path("target_modules"), pp + "target_modules");
    boolean rslora = bool(a, "use_rslora", pp, false);
    int nolaBases = intIn(a, "num_bases", pp, 64, 1, 100_000);
    int factor = a.has("factor") ? intIn(a, "factor", pp, -1, -1, 100_000) : -1;
    if (factor == 0) {
      throw ApiException.badRequest("must be -1 (factors near the square root) or positive", pp + "factor");
    }
    ObjectNode adapter = JSON.createObjectNode().put("type", type).put("rank", rank).put("alpha", alpha).put("dropout", dropout);
    adapter.set("target_modules", JSON.valueToTree(targets));
    switch (type) {
      case "nola" -> adapter.put("num_bases", nolaBases);
      case "kronecker" -> adapter.put("factor", factor);
      default -> adapter.put("use_rslora", rslora);
    }

    KnownFields.check(h, hp, Set.of("n_epochs", "batch_size", "learning_rate_multiplier", "max_steps", "learning_rate",
        "gradient_accumulation_steps", "warmup_steps", "lr_scheduler", "max_seq_len", "weight_decay", "max_grad_norm",
        "checkpoint_every", "eval_every", "early_stopping_patience", "train_on_inputs"));
    int epochs = intIn(h, "n_epochs", hp, 3, 1, 10_000);
    int maxSteps = intIn(h, "max_steps", hp, 0, 0, 10_000_000);
    double multiplier = number(h, "learning_rate_multiplier", hp, 1.0, 1e-6, 1e4);
    if (h.hasNonNull("learning_rate") && h.hasNonNull("learning_rate_multiplier") && !auto(h.get("learning_rate_multiplier"))) {
      throw ApiException.badRequest("give learning_rate or learning_rate_multiplier (of " + BASE_LEARNING_RATE + "), not both",
          hp + "learning_rate_multiplier");
    }
    double lr = number(h, "learning_rate", hp, BASE_LEARNING_RATE * multiplier, 1e-12, 10);
    int batch = intIn(h, "batch_size", hp, 8, 1, 4096);
    int accum = intIn(h, "gradient_accumulation_steps", hp, 1, 1, 4096);
    int warmup = intIn(h, "warmup_steps", hp, 0, 0, 10_000_000);
    String schedule = h.has("lr_scheduler") ? text(h.get("lr_scheduler"), hp + "lr_scheduler") : "linear";
    if (!Set.of("linear", "cosine", "constant").contains(schedule)) {
      throw ApiException.badRequest("must be linear, cosine or constant; got '" + schedule + "'", hp + "lr_scheduler");
    }
    int seqLen = intIn(h, "max_seq_len", hp, 1024, 2, 1_048_576);
    double decay = number(h, "weight_decay", hp, 0.0, 0.0, 10);
    double clip = number(h, "max_grad_norm", hp, 1.0, 0.0, 1e6);
    int checkpointEvery = intIn(h, "checkpoint_every", hp, 0, 0, 10_000_000);
    int evalEvery = intIn(h, "eval_every", hp, 0, 0, 10_000_000);
    int patience = intIn(h, "early_stopping_patience", hp, 0, 0, 10_000);
    boolean trainOnInputs = bool(h, "train_on_inputs", hp, false);
    ObjectNode hyper = JSON.createObjectNode()
        .put("n_epochs", epochs).put("batch_size", batch).put("learning_rate_multiplier", lr / BASE_LEARNING_RATE)
        .put("max_steps", maxSteps).put("learning_rate", lr)
        .put("gradient_accumulation_steps", accum).put("warmup_steps", warmup).put("lr_scheduler", schedule)
        .put("max_seq_len", seqLen).put("weight_decay", decay).put("max_grad_norm", clip)
        .put("checkpoint_every", checkpointEvery).put("eval_every", evalEvery).put("early_stopping_patience", patience)
        .put("train_on_inputs", trainOnInputs);
    ObjectNode method = JSON.createObjectNode().put("type", "supervised");
    method.putObject("supervised").set("hyperparameters", hyper);

    long seed;
    if (body.hasNonNull("seed")) {
      if (!body.get("seed").canConvertToLong() || !body.get("seed").isIntegralNumber()) {
        throw ApiException.badRequest("must be an integer", "seed");
      }
      seed = body.get("seed").asLong();
    } else {
      seed = RANDOM.nextInt(Integer.MAX_VALUE);
    }
    String suffix = null;
    if (body.hasNonNull("suffix")) {
      suffix = text(body.get("suffix"), "suffix");
      if (!suffix.matches("[A-Za-z0-9_-]{1,64}")) {
        throw ApiException.badRequest("must be 1-64 letters, digits, '-' or '_'", "suffix");
      }
    }
    Map<String, String> metadata = new java.util.LinkedHashMap<>();
    if (body.hasNonNull("metadata")) {
      JsonNode md = body.get("metadata");
      if (!md.isObject() || md.size() > 16) {
        throw ApiException.badRequest("must be an object of at most 16 string values", "metadata");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
        var e = it.next();
        if (!e.getValue().isTextual() || e.getKey().length() > 64 || e.getValue().asText().length() > 512) {
          throw ApiException.badRequest("keys up to 64 characters, string values up to 512", "metadata." + e.getKey());
        }
        metadata.put(e.getKey(), e.getValue().asText());
      }
    }
    JobSpec spec = new JobSpec(type, rank, alpha, dropout, targets, rslora, nolaBases, factor, epochs, maxSteps, lr, warmup,
        schedule, batch, accum, seqLen, decay, clip, trainOnInputs, checkpointEvery, evalEvery, patience, seed);
    return new JobRequest(model, training, validation, method, hyper, adapter, spec, seed, suffix, metadata);
  }

  /** The node if it is an object, missing or null; else a 400 naming the field. */
  private static JsonNode object(JsonNode n, String field) {
    if (!n.isMissingNode() && !n.isNull() && !n.isObject()) {
      throw ApiException.badRequest("must be an object", field);
    }
    return n;
  }

  private static String requiredId(JsonNode body, String field, String prefix) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      throw ApiException.badRequest("is required", field);
    }
    String id = text(n, field);
    if (!id.startsWith(prefix) || !RequestValues.isId(id)) {
      throw ApiException.badRequest("must be an id starting with '" + prefix + "'; got '" + id + "'", field);
    }
    return id;
  }

  private static String text(JsonNode n, String field) {
    if (!n.isTextual()) {
      throw ApiException.badRequest("must be a string", field);
    }
    return n.asText();
  }

  private static boolean auto(JsonNode n) {
    return n == null || n.isNull() || (n.isTextual() && n.asText().equals("auto"));
  }

  private static int intIn(JsonNode parent, String name, String prefix, int fallback, int min, int max) {
    JsonNode n = parent.path(name);
    if (n.isMissingNode() || auto(n)) {
      return fallback;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
      throw ApiException.badRequest("must be an integer from " + min + " to " + max + (n.isTextual() ? " or \"auto\"" : "") + "; got " + n, prefix + name);
    }
    return n.asInt();
  }

  private static double number(JsonNode parent, String name, String prefix, double fallback, double min, double max) {
    JsonNode n = parent.path(name);
    if (n.isMissingNode() || auto(n)) {
      return fallback;
    }
    if (!n.isNumber() || n.asDouble() < min || n.asDouble() > max || Double.isNaN(n.asDouble())) {
      throw ApiException.badRequest("must be a number from " + min + " to " + max + "; got " + n, prefix + name);
    }
    return n.asDouble();
  }

  private static boolean bool(JsonNode parent, String name, String prefix, boolean fallback) {
    JsonNode n = parent.path(name);
    if (n.isMissingNode() || n.isNull()) {
      return fallback;
    }
    if (!n.isBoolean()) {
      throw ApiException.badRequest("must be true or false", prefix + name);
    }
    return n.asBoolean();
  }

  private static List<String> targets(JsonNode n, String field) {
    if (n.isMissingNode() || n.isNull()) {
      return List.of("all-linear");
    }
    List<String> names = new ArrayList<>();
    if (n.isTextual()) {
      for (String s : n.asText().split(",")) {
        if (!s.isBlank()) {
          names.add(s.trim());
        }
      }
    } else if (n.isArray()) {
      n.forEach(e -> names.add(e.asText()));
    } else {
      throw ApiException.badRequest("must be \"all-linear\", a comma-separated string or a list of module names", field);
    }
    if (names.equals(List.of("all-linear"))) {
      return names;
    }
    if (names.isEmpty()) {
      throw ApiException.badRequest("names no module", field);
    }
    for (String s : names) {
      if (!MODULES.contains(s)) {
        throw ApiException.badRequest("'" + s + "' is not a linear module; choose from " + String.join(", ", new java.util.TreeSet<>(MODULES))
            + " or all-linear", field);
      }
    }
    return names;
  }
}
