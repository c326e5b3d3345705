package io.peftplatform.training;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a run stands between steps: with the adapter and the optimizer's moments, all a resumed run
 * needs to continue exactly as the uninterrupted one would.
 *
 * @param step optimizer steps done
 * @param epoch the epoch the next micro-batch belongs to (0-based)
 * @param batchInEpoch the next micro-batch's index within that epoch
 * @param dataOrder the epoch's example order (derived from seed and epoch; stored for the record)
 * @param history one entry per step
 */
public record TrainerState(
    int step,
    int epoch,
    int batchInEpoch,
    double bestValidationLoss,
    int validationsWithoutImprovement,
    long seed,
    int[] dataOrder,
    List<Entry> history) {

  /**
   * A step's numbers. validationLoss is NaN when not measured at that step; metrics are the
   * objective's others (empty for supervised training; absent in checkpoints written before them).
   */
  public record Entry(int step, double trainLoss, double validationLoss, double learningRate, double gradNorm,
      Map<String, Double> metrics) {
    public Entry {
      metrics = metrics == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }
  }
}
