package io.peftplatform.training;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One optimizer step's report.
 *
 * @param epoch fractional epochs done (1.5 = half-way through the second)
 * @param trainLoss mean loss per token of this step's batches
 * @param validationLoss mean validation loss when it was computed at this step, else NaN
 * @param tokensPerSecond scored and unscored tokens processed per second, over the run so far
 * @param etaSeconds estimated time to the last step
 * @param metrics the objective's other numbers for this step (DPO: reward margin, accuracy …), with
 *     {@code validation_} ones when validated at this step; empty for supervised training
 */
public record TrainingProgress(
    int step,
    int totalSteps,
    double epoch,
    double trainLoss,
    double validationLoss,
    double learningRate,
    double gradNorm,
    double tokensPerSecond,
    double etaSeconds,
    Map<String, Double> metrics) {

  public TrainingProgress {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  public boolean hasValidation() {
    return !Double.isNaN(validationLoss);
  }
}
