package io.peftplatform.events;

import java.util.List;

/**
 * What a job trains and how: everything a worker needs besides the files.
 *
 * @param method lora, dora, nola or kronecker
 * @param targetModules module names or all-linear
 * @param epochs used when maxSteps is 0
 * @param evalEvery validation every N steps; 0 for once per epoch
 */
public record JobSpec(
    String method,
    int rank,
    double alpha,
    double dropout,
    List<String> targetModules,
    boolean useRslora,
    int nolaBases,
    int kronFactor,
    int epochs,
    int maxSteps,
    double learningRate,
    int warmupSteps,
    String schedule,
    int batchSize,
    int gradAccum,
    int seqLen,
    double weightDecay,
    double maxGradNorm,
    boolean trainOnInputs,
    int checkpointEvery,
    int evalEvery,
    int earlyStoppingPatience,
    long seed) {

  public JobSpec {
    targetModules = List.copyOf(targetModules);
  }
}
