package io.peftplatform.training.spec;

/**
 * How to train: the loop's hyperparameters (the adapter's are in AdapterSpec).
 *
 * @param epochs passes over the data, used when {@code maxSteps} is 0
 * @param maxSteps optimizer steps to take; 0 to run {@code epochs} epochs
 * @param learningRate peak learning rate
 * @param warmupSteps steps of linear warmup from 0 (as transformers: the first update uses 0)
 * @param schedule decay after warmup: linear or cosine to 0, or constant
 * @param batchSize examples per micro-batch
 * @param gradAccum micro-batches per optimizer step
 * @param weightDecay AdamW's decoupled weight decay
 * @param maxGradNorm clip the global gradient norm to this; 0 for no clipping
 * @param seed seeds data order and dropout (the adapter's initialisation has its own seed)
 * @param checkpointEvery save a resumable checkpoint every N steps (and at the end); 0 for none;
 *     {@link #AUTO} for ten in a run
 * @param evalEvery validation every N steps (and at the end); 0 for only at the end; {@link #AUTO} for
 *     once per epoch
 * @param earlyStoppingPatience stop after this many validations without improvement; 0 never
 * @param precision the frozen projections' products: fp32, or BF16 (the weights held in BF16, inputs
 *     rounded to BF16, products accumulated in fp32, the results rounded to BF16 and widened back — PyTorch's CPU autocast);
 *     the adapters, their gradients and the optimizer stay fp32 either way
 *
 * <p>0 means "never" (or "only at the end") wherever an interval is given, and {@link #AUTO} means the
 * default, resolved against the data by {@link #evalInterval} and {@link #checkpointInterval}: the CLI,
 * the API and the worker all read them so.
 */
public record TrainingConfig(
    int epochs,
    int maxSteps,
    double learningRate,
    int warmupSteps,
    Schedule schedule,
    int batchSize,
    int gradAccum,
    double weightDecay,
    double maxGradNorm,
    long seed,
    int checkpointEvery,
    int evalEvery,
    int earlyStoppingPatience,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    Precision precision) {

  /** An interval left to the run: see {@link #evalInterval} and {@link #checkpointInterval}. */
  public static final int AUTO = -1;
  public static final int DEFAULT_EPOCHS = 3;
  public static final double DEFAULT_LEARNING_RATE = 2e-4;
  public static final int DEFAULT_BATCH_SIZE = 8;
  public static final double DEFAULT_MAX_GRAD_NORM = 1.0;

  public enum Schedule {
    LINEAR,
    COSINE,
    CONSTANT;

    public static Schedule parse(String s) {
      for (Schedule v : values()) {
        if (v.name().equalsIgnoreCase(s)) {
          return v;
        }
      }
      throw new IllegalArgumentException("schedule must be linear, cosine or constant, got '" + s + "'");
    }
  }

  /** What the frozen projections multiply in (see {@link TrainingConfig#precision}). */
  public enum Precision {
    FP32,
    BF16;

    /** {@code fp32}/{@code float32} or {@code bf16}/{@code bfloat16}, any case. */
    public static Precision parse(String s) {
      return switch (s.toLowerCase(java.util.Locale.ROOT)) {
        case "fp32", "float32" -> FP32;
        case "bf16", "bfloat16" -> BF16;
        default -> throw new IllegalArgumentException("precision must be fp32 or bf16, got '" + s + "'");
      };
    }
  }

  public TrainingConfig {
    precision = precision == null ? Precision.FP32 : precision; // specs written before the field are fp32 runs
    require(epochs >= 1 || maxSteps >= 1, "epochs or max steps must be at least 1");
    require(maxSteps >= 0, "max steps must not be negative, got " + maxSteps);
    require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be positive, got " + learningRate);
    require(warmupSteps >= 0, "warmup steps must not be negative, got " + warmupSteps);
    require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
    require(gradAccum >= 1, "gradient accumulation must be at least 1, got " + gradAccum);
    require(weightDecay >= 0, "weight decay must not be negative, got " + weightDecay);
    require(maxGradNorm >= 0, "max gradient norm must not be negative, got " + maxGradNorm);
    require(checkpointEvery >= AUTO, "checkpoint interval must be -1 (auto), 0 (none) or positive, got " + checkpointEvery);
    require(evalEvery >= AUTO, "validation interval must be -1 (auto), 0 (only at the end) or positive, got " + evalEvery);
    require(earlyStoppingPatience >= 0, "early stopping patience must not be negative, got " + earlyStoppingPatience);
    require(adamBeta1 >= 0 && adamBeta1 < 1 && adamBeta2 >= 0 && adamBeta2 < 1 && adamEpsilon > 0, "invalid Adam parameters");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Defaults: 3 epochs, lr 2e-4, no warmup, linear decay, batch 8, no accumulation, clip at 1, validation
   * once per epoch, ten checkpoints in a run, no early stopping, Adam's (0.9, 0.999, 1e-8).
   */
  public static TrainingConfig defaults() {
    return new TrainingConfig(DEFAULT_EPOCHS, 0, DEFAULT_LEARNING_RATE, 0, Schedule.LINEAR, DEFAULT_BATCH_SIZE, 1, 0.0,
        DEFAULT_MAX_GRAD_NORM, 0, AUTO, AUTO, 0, 0.9, 0.999, 1e-8, Precision.FP32);
  }

  public TrainingConfig withSteps(int epochs, int maxSteps) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon, precision);
  }

  public TrainingConfig withOptimizer(double lr, int warmup, Schedule s, double decay, double clip) {
    return new TrainingConfig(epochs, maxSteps, lr, warmup, s, batchSize, gradAccum, decay, clip, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon, precision);
  }

  public TrainingConfig withBatches(int batch, int accum) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batch, accum, weightDecay, maxGradNorm, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon, precision);
  }

  public TrainingConfig withSeed(long s) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, s,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon, precision);
  }

  public TrainingConfig withMonitoring(int checkpoint, int eval, int patience) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, seed,
        checkpoint, eval, patience, adamBeta1, adamBeta2, adamEpsilon, precision);
  }

  public TrainingConfig withPrecision(Precision p) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon, p);
  }

  /** Optimizer steps of a run over {@code examples} training examples. */
  public int totalSteps(int examples) {
    if (maxSteps > 0) {
      return maxSteps;
    }
    return epochs * stepsPerEpoch(examples);
  }

  /** Optimizer steps in one pass over {@code examples} training examples (at least 1). */
  public int stepsPerEpoch(int examples) {
    int batches = (examples + batchSize - 1) / batchSize;
    return Math.max(1, (batches + gradAccum - 1) / gradAccum);
  }

  /** Steps between validations, {@link #AUTO} resolved to once per epoch; 0 for only at the end. */
  public int evalInterval(int examples) {
    return evalEvery == AUTO ? stepsPerEpoch(examples) : evalEvery;
  }

  /** Steps between checkpoints, {@link #AUTO} resolved to a tenth of the run; 0 for none. */
  public int checkpointInterval(int examples) {
    return checkpointEvery == AUTO ? Math.max(1, totalSteps(examples) / 10) : checkpointEvery;
  }

  /** The learning rate of update t (0-based), as transformers' schedulers give it. */
  public double learningRate(int t, int total) {
    if (t < warmupSteps) {
      return learningRate * t / Math.max(1, warmupSteps);
    }
    double progress = (double) (t - warmupSteps) / Math.max(1, total - warmupSteps);
    return switch (schedule) {
      case CONSTANT -> learningRate;
      case LINEAR -> learningRate * Math.max(0, 1 - progress);
      case COSINE -> learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
    };
  }
}
