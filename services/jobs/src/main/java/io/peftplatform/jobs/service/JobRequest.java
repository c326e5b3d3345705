package io.peftplatform.jobs.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.jobs.rest.AutoOr;
import io.peftplatform.jobs.rest.CreateJobRequest.AdapterOptions;
import io.peftplatform.jobs.rest.CreateJobRequest.Hyperparameters;
import io.peftplatform.jobs.rest.CreateJobRequest;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TargetModules;
import io.peftplatform.training.spec.TrainingConfig;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A job creation request resolved: what depends on several fields checked (every refusal names the
 * field, as a JSON path), the run's defaults — those of {@link RunSpec}'s parts — filled in, "auto"
 * values chosen, and the worker's {@link RunSpec} built. The fields themselves were checked by
 * {@link CreateJobRequest}.
 */
public record JobRequest(String model, String trainingFile, String validationFile, ObjectNode method, ObjectNode hyperparameters,
    ObjectNode adapter, RunSpec spec, long seed, String suffix, Map<String, String> metadata) {

  static final ObjectMapper JSON = new ObjectMapper();
  /** The learning rate {@code learning_rate_multiplier} multiplies: PEFT's usual LoRA rate. */
  public static final double BASE_LEARNING_RATE = TrainingConfig.DEFAULT_LEARNING_RATE;
  private static final SecureRandom RANDOM = new SecureRandom();

  public static JobRequest resolve(CreateJobRequest body) {
    if (body == null) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    // The objective: OpenAI's method (supervised, dpo), and this platform's reference-free simpo and orpo.
    CreateJobRequest.Method m = body.method();
    String objective = m == null || m.type() == null ? "supervised" : m.type();
    if (objective.equals("reinforcement")) {
      throw ApiException.badRequest("reinforcement fine-tuning is not supported; use \"supervised\", \"dpo\", \"simpo\" or \"orpo\"",
          "method.type");
    }
    Objective.Kind kind = Objective.Kind.parse(objective);
    boolean dpo = kind != Objective.Kind.SUPERVISED; // preference pairs, whichever loss
    Map<String, CreateJobRequest.Settings> given = new LinkedHashMap<>();
    if (m != null) {
      given.put("supervised", m.supervised());
      given.put("dpo", m.dpo());
      given.put("simpo", m.simpo());
      given.put("orpo", m.orpo());
    }
    for (Map.Entry<String, CreateJobRequest.Settings> e : given.entrySet()) {
      if (e.getValue() != null && !e.getKey().equals(objective)) {
        throw ApiException.badRequest("is for method.type \"" + e.getKey() + "\", not \"" + objective + "\"", "method." + e.getKey());
      }
    }
    if (m != null && m.reinforcement() != null && !m.reinforcement().isNull()) {
      throw ApiException.badRequest("is for method.type \"reinforcement\", not \"" + objective + "\"", "method.reinforcement");
    }
    CreateJobRequest.Settings settings = given.get(objective);
    Hyperparameters h = settings == null ? null : settings.hyperparameters();
    String hp = "method." + objective + ".hyperparameters.";
    if (body.hyperparameters() != null) {
      if (h != null) {
        throw ApiException.badRequest("give the hyperparameters once, in method." + objective + ".hyperparameters", "hyperparameters");
      }
      h = body.hyperparameters();
      hp = "hyperparameters.";
    }
    if (h == null) {
      h = new Hyperparameters(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
          null);
    }
    if (!dpo && h.beta() != null) {
      throw ApiException.badRequest("is preference tuning's (dpo, simpo, orpo); this job is supervised", hp + "beta");
    }
    if (kind != Objective.Kind.SIMPO && h.gamma() != null) {
      throw ApiException.badRequest("is SimPO's; this job is " + objective, hp + "gamma");
    }
    if (dpo && Boolean.TRUE.equals(h.packing())) {
      throw ApiException.badRequest("packing applies to supervised training, not to preference pairs", hp + "packing");
    }
    if (dpo && Boolean.TRUE.equals(h.trainOnInputs())) {
      throw ApiException.badRequest("applies to supervised training: preference tuning scores the answers only", hp + "train_on_inputs");
    }

    // How: the adapter (this platform's extension).
    AdapterOptions a = body.adapter() != null ? body.adapter() : new AdapterOptions(null, null, null, null, null, null, null, null);
    String type = a.type() == null ? "lora" : a.type();
    refuseOtherTypes(type, a);
    int rank = or(a.rank(), AdapterSpec.DEFAULT_RANK);
    double alpha = or(a.alpha(), 2.0 * rank);
    double dropout = or(a.dropout(), 0.0);
    List<String> targets = targets(a.targetModules(), "adapter.target_modules");
    boolean rslora = or(a.useRslora(), false);
    int nolaBases = or(a.numBases(), AdapterSpec.DEFAULT_NOLA_BASES);
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
    int epochs = (int) AutoOr.Validator.value(h.nEpochs(), TrainingConfig.DEFAULT_EPOCHS);
    int batch = (int) AutoOr.Validator.value(h.batchSize(), TrainingConfig.DEFAULT_BATCH_SIZE);
    double beta = AutoOr.Validator.value(h.beta(), kind.defaultBeta());
    Objective goal = Objective.of(kind, beta, h.gamma());
    double lr = h.learningRate() != null ? h.learningRate() : BASE_LEARNING_RATE * AutoOr.Validator.value(h.learningRateMultiplier(), 1.0);
    int maxSteps = or(h.maxSteps(), 0);
    int accum = or(h.gradientAccumulationSteps(), 1);
    int warmup = or(h.warmupSteps(), 0);
    String schedule = h.lrScheduler() == null ? "linear" : h.lrScheduler();
    int seqLen = or(h.maxSeqLen(), DataOptions.DEFAULT_MAX_SEQ_LEN);
    double decay = or(h.weightDecay(), 0.0);
    double clip = or(h.maxGradNorm(), TrainingConfig.DEFAULT_MAX_GRAD_NORM);
    int checkpointEvery = (int) AutoOr.Validator.value(h.checkpointEvery(), TrainingConfig.AUTO);
    int evalEvery = (int) AutoOr.Validator.value(h.evalEvery(), TrainingConfig.AUTO);
    int patience = or(h.earlyStoppingPatience(), 0);
    boolean trainOnInputs = or(h.trainOnInputs(), false);
    boolean packing = or(h.packing(), false);
    String precision = or(h.precision(), "fp32");
    ObjectNode hyper = JSON.createObjectNode()
        .put("n_epochs", epochs).put("batch_size", batch).put("learning_rate_multiplier", lr / BASE_LEARNING_RATE);
    if (dpo) {
      hyper.put("beta", beta);
    }
    if (kind == Objective.Kind.SIMPO) {
      hyper.put("gamma", goal.gamma());
    }
    hyper.put("max_steps", maxSteps).put("learning_rate", lr)
        .put("gradient_accumulation_steps", accum).put("warmup_steps", warmup).put("lr_scheduler", schedule)
        .put("max_seq_len", seqLen).put("weight_decay", decay).put("max_grad_norm", clip);
    interval(hyper, "checkpoint_every", checkpointEvery);
    interval(hyper, "eval_every", evalEvery);
    hyper.put("early_stopping_patience", patience).put("precision", precision);
    if (!dpo) {
      hyper.put("train_on_inputs", trainOnInputs).put("packing", packing);
    }
    ObjectNode method = JSON.createObjectNode().put("type", objective);
    method.putObject(objective).set("hyperparameters", hyper);

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
    RunSpec spec;
    try {
      spec = new RunSpec(
          new AdapterSpec(AdapterMethod.parse(type), rank, alpha, dropout, targets, rslora, nolaBases, nolaBases, factor, false, seed),
          new TrainingConfig(epochs, maxSteps, lr, warmup, TrainingConfig.Schedule.parse(schedule), batch, accum, decay, clip, seed,
              checkpointEvery, evalEvery, patience, 0.9, 0.999, 1e-8, TrainingConfig.Precision.parse(precision)),
          new DataOptions(seqLen, trainOnInputs, packing),
          goal);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage(), hp.substring(0, hp.length() - 1)); // the fields were checked: a combination
    }
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

  /** "auto" for {@link TrainingConfig#AUTO}, else the number of steps (0: never). */
  private static void interval(ObjectNode hyper, String field, int steps) {
    if (steps == TrainingConfig.AUTO) {
      hyper.put(field, "auto");
    } else {
      hyper.put(field, steps);
    }
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }

  private static List<String> targets(JsonNode n, String field) {
    if (n == null || n.isMissingNode() || n.isNull()) {
      return List.of(TargetModules.ALL_LINEAR);
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
    if (names.equals(List.of(TargetModules.ALL_LINEAR))) {
      return names;
    }
    if (names.isEmpty()) {
      throw ApiException.badRequest("names no module", field);
    }
    for (String s : names) {
      if (!WeightNames.LINEAR_MODULES.contains(s)) {
        throw ApiException.badRequest("'" + s + "' is not a linear module; choose from "
            + String.join(", ", new TreeSet<>(WeightNames.LINEAR_MODULES)) + " or " + TargetModules.ALL_LINEAR, field);
      }
    }
    return names;
  }
}
