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
 * A job creation request, checked field by field (every refusal names the field, as a JSON path) and
 * resolved: defaults filled in, "auto" values chosen, the worker's {@link JobSpec} built.
 *
 * <pre>
 * {"model": "model-…", "training_file": "file-…", "validation_file": "file-…",
 *  "method": {"type": "lora", "lora": {"rank": 8, "alpha": 16, "dropout": 0, "target_modules": "all-linear", "use_rslora": false}},
 *  "hyperparameters": {"n_epochs": 3, "learning_rate": 2e-4, "batch_size": 8, …},
 *  "seed": 42, "suffix": "support-bot", "metadata": {"team": "search"}}
 * </pre>
 */
public record JobRequest(String model, String trainingFile, String validationFile, ObjectNode method, ObjectNode hyperparameters,
    JobSpec spec, long seed, String suffix, Map<String, String> metadata) {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> METHODS = Set.of("lora", "dora", "nola", "kronecker");
  static final Set<String> MODULES = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
  private static final SecureRandom RANDOM = new SecureRandom();

  public static JobRequest parse(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    KnownFields.check(body, "", Set.of("model", "training_file", "validation_file", "method", "hyperparameters", "seed", "suffix", "metadata", "integrations"));
    String model = requiredId(body, "model", "model-");
    String training = requiredId(body, "training_file", "file-");
    String validation = body.hasNonNull("validation_file") ? requiredId(body, "validation_file", "file-") : null;

    JsonNode m = body.path("method");
    if (!m.isMissingNode() && !m.isNull() && !m.isObject()) {
      throw ApiException.badRequest("must be an object {\"type\": \"lora\", \"lora\": {…}}", "method");
    }
    String type = m.path("type").isMissingNode() || m.path("type").isNull() ? "lora" : text(m.path("type"), "method.type");
    if (!METHODS.contains(type)) {
      throw ApiException.badRequest("must be one of lora, dora, nola, kronecker; got '" + type + "'", "method.type");
    }
    JsonNode p = m.path(type);
    if (!p.isMissingNode() && !p.isNull() && !p.isObject()) {
      throw ApiException.badRequest("must be an object", "method." + type);
    }
    String pp = "method." + type + ".";
    KnownFields.check(p, pp, switch (type) {
      case "nola" -> Set.of("rank", "alpha", "dropout", "target_modules", "num_bases");
      case "kronecker" -> Set.of("rank", "alpha", "dropout", "target_modules", "factor");
      default -> Set.of("rank", "alpha", "dropout", "target_modules", "use_rslora");
    });
    int rank = intIn(p, "rank", pp, 8, 1, 1024);
    double alpha = number(p, "alpha", pp, 2.0 * rank, 1e-9, 1e6);
    double dropout = number(p, "dropout", pp, 0.0, 0.0, 0.99);
    List<String> targets = targets(p.path("target_modules"), pp + "target_modules");
    boolean rslora = bool(p, "use_rslora", pp, false);
    int nolaBases = intIn(p, "num_bases", pp, 64, 1, 100_000);
    int factor = p.has("factor") ? intIn(p, "factor", pp, -1, -1, 100_000) : -1;
    if (factor == 0) {
      throw ApiException.badRequest("must be -1 (factors near the square root) or positive", pp + "factor");
    }
    ObjectNode method = JSON.createObjectNode().put("type", type);
    ObjectNode params = method.putObject(type).put("rank", rank).put("alpha", alpha).put("dropout", dropout);
    params.set("target_modules", JSON.valueToTree(targets));
    switch (type) {
      case "nola" -> params.put("num_bases", nolaBases);
      case "kronecker" -> params.put("factor", factor);
      default -> params.put("use_rslora", rslora);
    }

    JsonNode h = body.path("hyperparameters");
    if (!h.isMissingNode() && !h.isNull() && !h.isObject()) {
      throw ApiException.badRequest("must be an object", "hyperparameters");
    }
    String hp = "hyperparameters.";
    KnownFields.check(h, hp, Set.of("n_epochs", "max_steps", "learning_rate", "batch_size", "gradient_accumulation_steps", "warmup_steps",
        "lr_scheduler", "max_seq_len", "weight_decay", "max_grad_norm", "checkpoint_every", "eval_every",
        "early_stopping_patience", "train_on_inputs"));
    int epochs = intIn(h, "n_epochs", hp, 3, 1, 10_000);
    int maxSteps = intIn(h, "max_steps", hp, 0, 0, 10_000_000);
    double lr = number(h, "learning_rate", hp, 2e-4, 1e-12, 10);
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
        .put("n_epochs", epochs).put("max_steps", maxSteps).put("learning_rate", lr).put("batch_size", batch)
        .put("gradient_accumulation_steps", accum).put("warmup_steps", warmup).put("lr_scheduler", schedule)
        .put("max_seq_len", seqLen).put("weight_decay", decay).put("max_grad_norm", clip)
        .put("checkpoint_every", checkpointEvery).put("eval_every", evalEvery).put("early_stopping_patience", patience)
        .put("train_on_inputs", trainOnInputs);

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
    return new JobRequest(model, training, validation, method, hyper, spec, seed, suffix, metadata);
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
