package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.Map;

/**
 * OpenAI's fine-tuning job request, with this platform's one extension object, {@code adapter} (which
 * adapter trains it; LoRA without it), and its extra hyperparameters beside OpenAI's three. Field types
 * and ranges are checked here (bean validation; a field of the wrong type or unknown is refused by the
 * JSON reader, naming it); what depends on several fields is checked where the request is resolved
 * ({@code JobRequest.resolve}).
 *
 * <pre>
 * {"model": "model-…", "training_file": "file-…", "validation_file": "file-…",
 *  "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": "auto",
 *             "learning_rate_multiplier": 1.0, "max_steps": 0, "lr_scheduler": "linear", "packing": true, …}}},
 *  — or {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, …}}} on a file of preference pairs, or this
 *    platform's reference-free "simpo" ({"beta": 2.0, "gamma": 0.5}) or "orpo" ({"beta": 0.1}: its lambda) —
 *  "adapter": {"type": "lora", "rank": 8, "alpha": 16, "dropout": 0, "target_modules": "all-linear", "use_rslora": false},
 *  "seed": 42, "suffix": "support-bot", "metadata": {"team": "search"}}
 * </pre>
 *
 * OpenAI's older top-level {@code hyperparameters} is read as the supervised method's.
 */
public record CreateJobRequest(
    @NotNull(message = "is required") @Pattern(regexp = "model-[A-Za-z0-9_-]{1,122}", message = "must be an id starting with 'model-'")
    String model,
    @NotNull(message = "is required") @Pattern(regexp = "file-[A-Za-z0-9_-]{1,123}", message = "must be an id starting with 'file-'")
    String trainingFile,
    @Pattern(regexp = "file-[A-Za-z0-9_-]{1,123}", message = "must be an id starting with 'file-'") String validationFile,
    @Valid Method method,
    @Valid Hyperparameters hyperparameters,
    @Valid AdapterOptions adapter,
    Long seed,
    @Pattern(regexp = "[A-Za-z0-9_-]{1,64}", message = "must be 1-64 letters, digits, '-' or '_'") String suffix,
    @Size(max = 16, message = "must be an object of at most 16 string values") Map<String, String> metadata,
    JsonNode integrations) {

  /** The objective: OpenAI's {@code method}, supervised or dpo, and this platform's simpo and orpo (reinforcement is refused). */
  public record Method(
      @Pattern(regexp = "supervised|dpo|simpo|orpo|reinforcement", message = "must be supervised, dpo, simpo or orpo") String type,
      @Valid Settings supervised,
      @Valid Settings dpo,
      @Valid Settings simpo,
      @Valid Settings orpo,
      JsonNode reinforcement) {}

  /** A method's settings: {@code {"hyperparameters": {…}}}. */
  public record Settings(@Valid Hyperparameters hyperparameters) {}

  /** OpenAI's three ({@code "auto"} allowed) and DPO's beta, then this platform's (SimPO's gamma among them). */
  public record Hyperparameters(
      @AutoOr(min = 1, max = 10_000, integer = true) JsonNode nEpochs,
      @AutoOr(min = 1, max = 4096, integer = true) JsonNode batchSize,
      @AutoOr(min = 1e-6, max = 1e4) JsonNode learningRateMultiplier,
      @AutoOr(min = 1e-4, max = 100) JsonNode beta,
      @DecimalMin(value = "0", message = "must be from 0 to 100") @DecimalMax(value = "100", message = "must be from 0 to 100") Double gamma,
      @Min(value = 0, message = "must be from 0 to 10000000") @Max(value = 10_000_000, message = "must be from 0 to 10000000") Integer maxSteps,
      @DecimalMin(value = "1e-12", message = "must be from 1e-12 to 10") @DecimalMax(value = "10", message = "must be from 1e-12 to 10")
      Double learningRate,
      @Min(value = 1, message = "must be from 1 to 4096") @Max(value = 4096, message = "must be from 1 to 4096") Integer gradientAccumulationSteps,
      @Min(value = 0, message = "must be from 0 to 10000000") @Max(value = 10_000_000, message = "must be from 0 to 10000000") Integer warmupSteps,
      @Pattern(regexp = "linear|cosine|constant", message = "must be linear, cosine or constant") String lrScheduler,
      @Min(value = 2, message = "must be from 2 to 1048576") @Max(value = 1_048_576, message = "must be from 2 to 1048576") Integer maxSeqLen,
      @DecimalMin(value = "0", message = "must be from 0 to 10") @DecimalMax(value = "10", message = "must be from 0 to 10") Double weightDecay,
      @DecimalMin(value = "0", message = "must be from 0 to 1000000") @DecimalMax(value = "1e6", message = "must be from 0 to 1000000")
      Double maxGradNorm,
      @AutoOr(min = 0, max = 10_000_000, integer = true) JsonNode checkpointEvery,
      @AutoOr(min = 0, max = 10_000_000, integer = true) JsonNode evalEvery,
      @Min(value = 0, message = "must be from 0 to 10000") @Max(value = 10_000, message = "must be from 0 to 10000") Integer earlyStoppingPatience,
      Boolean trainOnInputs,
      Boolean packing,
      @Pattern(regexp = "fp32|bf16", message = "must be fp32 or bf16") String precision) {}

  /** The adapter that trains the job (this platform's extension); fields of another type's are refused. */
  public record AdapterOptions(
      @Pattern(regexp = "lora|dora|nola|kronecker", message = "must be one of lora, dora, nola, kronecker") String type,
      @Min(value = 1, message = "must be from 1 to 1024") @Max(value = 1024, message = "must be from 1 to 1024") Integer rank,
      @DecimalMin(value = "0", inclusive = false, message = "must be above 0 and at most 1000000")
      @DecimalMax(value = "1e6", message = "must be above 0 and at most 1000000") Double alpha,
      @DecimalMin(value = "0", message = "must be from 0 to 0.99") @DecimalMax(value = "0.99", message = "must be from 0 to 0.99") Double dropout,
      JsonNode targetModules,
      Boolean useRslora,
      @Min(value = 1, message = "must be from 1 to 100000") @Max(value = 100_000, message = "must be from 1 to 100000") Integer numBases,
      @Min(value = -1, message = "must be -1 (factors near the square root) or positive")
      @Max(value = 100_000, message = "must be at most 100000") Integer factor) {}
}
