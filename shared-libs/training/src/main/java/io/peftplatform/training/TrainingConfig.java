package io.peftplatform.training;

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
 * @param checkpointEvery save a resumable checkpoint every N steps; 0 for none
 * @param evalEvery validation loss every N steps (and at the end); 0 for only at the end
 * @param earlyStoppingPatience stop after this many validations without improvement; 0 never
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
    double adamEpsilon) {

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

  public TrainingConfig {
    require(epochs >= 1 || maxSteps >= 1, "epochs or max steps must be at least 1");
    require(maxSteps >= 0, "max steps must not be negative, got " + maxSteps);
    require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be positive, got " + learningRate);
    require(warmupSteps >= 0, "warmup steps must not be negative, got " + warmupSteps);
    require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
    require(gradAccum >= 1, "gradient accumulation must be at least 1, got " + gradAccum);
    require(weightDecay >= 0, "weight decay must not be negative, got " + weightDecay);
    require(maxGradNorm >= 0, "max gradient norm must not be negative, got " + maxGradNorm);
    require(checkpointEvery >= 0 && evalEvery >= 0 && earlyStoppingPatience >= 0, "intervals must not be negative");
    require(adamBeta1 >= 0 && adamBeta1 < 1 && adamBeta2 >= 0 && adamBeta2 < 1 && adamEpsilon > 0, "invalid Adam parameters");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Defaults: 3 epochs, lr 2e-4, no warmup, linear decay, batch 8, no accumulation, clip at 1. */
  public static TrainingConfig defaults() {
    return new TrainingConfig(3, 0, 2e-4, 0, Schedule.LINEAR, 8, 1, 0.0, 1.0, 0, 0, 0, 0, 0.9, 0.999, 1e-8);
  }

  public TrainingConfig withSteps(int epochs, int maxSteps) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon);
  }

  public TrainingConfig withOptimizer(double lr, int warmup, Schedule s, double decay, double clip) {
    return new TrainingConfig(epochs, maxSteps, lr, warmup, s, batchSize, gradAccum, decay, clip, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon);
  }

  public TrainingConfig withBatches(int batch, int accum) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batch, accum, weightDecay, maxGradNorm, seed,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon);
  }

  public TrainingConfig withSeed(long s) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, s,
        checkpointEvery, evalEvery, earlyStoppingPatience, adamBeta1, adamBeta2, adamEpsilon);
  }

  public TrainingConfig withMonitoring(int checkpoint, int eval, int patience) {
    return new TrainingConfig(epochs, maxSteps, learningRate, warmupSteps, schedule, batchSize, gradAccum, weightDecay, maxGradNorm, seed,
        checkpoint, eval, patience, adamBeta1, adamBeta2, adamEpsilon);
  }

  /** Optimizer steps of a run over {@code examples} training examples. */
  public int totalSteps(int examples) {
    if (maxSteps > 0) {
      return maxSteps;
    }
    int batches = (examples + batchSize - 1) / batchSize;
    return epochs * ((batches + gradAccum - 1) / gradAccum);
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
