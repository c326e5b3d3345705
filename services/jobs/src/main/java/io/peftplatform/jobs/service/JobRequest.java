package io.peftplatform.jobs.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.events.JobSpec;
import io.peftplatform.jobs.rest.AutoOr;
import io.peftplatform.jobs.rest.CreateJobRequest;
import io.peftplatform.jobs.rest.CreateJobRequest.AdapterOptions;
import io.peftplatform.jobs.rest.CreateJobRequest.Hyperparameters;
import io.peftplatform.service.problem.ApiException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A job creation request resolved: what depends on several fields checked (every refusal names the
 * field, as a JSON path), defaults filled in — decided here, once — "auto" values chosen, and the
 * worker's {@link JobSpec} built. The fields themselves were checked by {@link CreateJobRequest}.
 */
public record JobRequest(String model, String trainingFile, String validationFile, ObjectNode method, ObjectNode hyperparameters,
    ObjectNode adapter, JobSpec spec, long seed, String suffix, Map<String, String> metadata) {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> MODULES = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
  /** The learning rate {@code learning_rate_multiplier} multiplies: PEFT's usual LoRA rate. */
  public static final double BASE_LEARNING_RATE = 2e-4;
  private static final SecureRandom RANDOM = new SecureRandom();

  public static JobRequest resolve(CreateJobRequest body) {
    if (body == null) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    // The objective: OpenAI's method.
    CreateJobRequest.Method m = body.method();
    String objective = m == null || m.type() == null ? "supervised" : m.type();
    switch (objective) {
      case "dpo" -> throw ApiException.badRequest("dpo (preference tuning) is not available yet; use \"supervised\"", "method.type");
      case "reinforcement" -> throw ApiException.badRequest("reinforcement fine-tuning is not supported; use \"supervised\"", "method.type");
      default -> { }
    }
    if (m != null && m.dpo() != null && !m.dpo().isNull()) {
      throw ApiException.badRequest("is for method.type \"dpo\", not \"supervised\"", "method.dpo");
    }
    if (m != null && m.reinforcement() != null && !m.reinforcement().isNull()) {
      throw ApiException.badRequest("is for method.type \"reinforcement\", not \"supervised\"", "method.reinforcement");
    }
    Hyperparameters h = m == null || m.supervised() == null ? null : m.supervised().hyperparameters();
    String hp = "method.supervised.hyperparameters.";
    if (body.hyperparameters() != null) {
      if (h != null) {
        throw ApiException.badRequest("give the hyperparameters once, in method.supervised.hyperparameters", "hyperparameters");
      }
      h = body.hyperparameters();
      hp = "hyperparameters.";
    }
    if (h == null) {
      h = new Hyperparameters(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    // How: the adapter (this platform's extension).
    AdapterOptions a = body.adapter() != null ? body.adapter() : new AdapterOptions(null, null, null, null, null, null, null, null);
    String type = a.type() == null ? "lora" : a.type();
    refuseOtherTypes(type, a);
    int rank = or(a.rank(), 8);
    double alpha = or(a.alpha(), 2.0 * rank);
    double dropout = or(a.dropout(), 0.0);
    List<String> targets = targets(a.targetModules(), "adapter.target_modules");
    boolean rslora = or(a.useRslora(), false);
    int nolaBases = or(a.numBases(), 64);
    int factor = or(a.factor(), -1);
    if (factor == 0) {
      throw ApiException.badRequest("must be -1 (factors near the square root) or positive", "adapter.factor");
    }
    ObjectNode adapter = JSON.createObjectNode().put("type", type).put("rank", rank).put("alpha", alpha).put("dropout", dropout);
    adapter.set("target_modules", JSON.valueToTree(targets));
    switch (type) {
      case "nola" -> adapter.put("num_bases", nolaBases);
      case "kronecker" -> adapter.put("factor", factor);
      default -> adapter.put("use_rslora", rslora);
    }

    boolean multiplierGiven = h.learningRateMultiplier() != null && h.learningRateMultiplier().isNumber();
    if (h.learningRate() != null && multiplierGiven) {
      throw ApiException.badRequest("give learning_rate or learning_rate_multiplier (of " + BASE_LEARNING_RATE + "), not both",
          hp + "learning_rate_multiplier");
    }
    int epochs = (int) AutoOr.Validator.value(h.nEpochs(), 3);
    int batch = (int) AutoOr.Validator.value(h.batchSize(), 8);
    double lr = h.learningRate() != null ? h.learningRate() : BASE_LEARNING_RATE * AutoOr.Validator.value(h.learningRateMultiplier(), 1.0);
    int maxSteps = or(h.maxSteps(), 0);
    int accum = or(h.gradientAccumulationSteps(), 1);
    int warmup = or(h.warmupSteps(), 0);
    String schedule = h.lrScheduler() == null ? "linear" : h.lrScheduler();
    int seqLen = or(h.maxSeqLen(), 1024);
    double decay = or(h.weightDecay(), 0.0);
    double clip = or(h.maxGradNorm(), 1.0);
    int checkpointEvery = or(h.checkpointEvery(), 0);
    int evalEvery = or(h.evalEvery(), 0);
    int patience = or(h.earlyStoppingPatience(), 0);
    boolean trainOnInputs = or(h.trainOnInputs(), false);
    ObjectNode hyper = JSON.createObjectNode()
        .put("n_epochs", epochs).put("batch_size", batch).put("learning_rate_multiplier", lr / BASE_LEARNING_RATE)
        .put("max_steps", maxSteps).put("learning_rate", lr)
        .put("gradient_accumulation_steps", accum).put("warmup_steps", warmup).put("lr_scheduler", schedule)
        .put("max_seq_len", seqLen).put("weight_decay", decay).put("max_grad_norm", clip)
        .put("checkpoint_every", checkpointEvery).put("eval_every", evalEvery).put("early_stopping_patience", patience)
        .put("train_on_inputs", trainOnInputs);
    ObjectNode method = JSON.createObjectNode().put("type", "supervised");
    method.putObject("supervised").set("hyperparameters", hyper);

    long seed = body.seed() != null ? body.seed() : RANDOM.nextInt(Integer.MAX_VALUE);
    Map<String, String> metadata = new LinkedHashMap<>();
    if (body.metadata() != null) {
      for (Map.Entry<String, String> e : body.metadata().entrySet()) {
        if (e.getValue() == null || e.getKey().length() > 64 || e.getValue().length() > 512) {
          throw ApiException.badRequest("keys up to 64 characters, string values up to 512", "metadata." + e.getKey());
        }
        metadata.put(e.getKey(), e.getValue());
      }
    }
    JobSpec spec = new JobSpec(type, rank, alpha, dropout, targets, rslora, nolaBases, factor, epochs, maxSteps, lr, warmup,
        schedule, batch, accum, seqLen, decay, clip, trainOnInputs, checkpointEvery, evalEvery, patience, seed);
    return new JobRequest(body.model(), body.trainingFile(), body.validationFile(), method, hyper, adapter, spec, seed, body.suffix(),
        metadata);
  }

  /** A setting of another adapter type's is refused rather than ignored. */
  private static void refuseOtherTypes(String type, AdapterOptions a) {
    Map<String, Object> onlyFor = new LinkedHashMap<>();
    if (!type.equals("nola")) {
      onlyFor.put("num_bases", a.numBases());
    }
    if (!type.equals("kronecker")) {
      onlyFor.put("factor", a.factor());
    }
    if (type.equals("nola") || type.equals("kronecker")) {
      onlyFor.put("use_rslora", a.useRslora());
    }
    onlyFor.forEach((field, value) -> {
      if (value != null) {
        throw ApiException.badRequest("is not a setting of a " + type + " adapter", "adapter." + field);
      }
    });
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }

  private static List<String> targets(JsonNode n, String field) {
    if (n == null || n.isMissingNode() || n.isNull()) {
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
