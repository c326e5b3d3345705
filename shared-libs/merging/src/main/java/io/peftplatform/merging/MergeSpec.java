package io.peftplatform.merging;

import java.util.List;

/**
 * A merge of n adapters.
 *
 * @param weights one per adapter, in order
 * @param density TIES: the fraction of each task vector's entries kept; DARE: the probability an entry is
 *     kept; ignored by linear and task arithmetic
 * @param seed DARE's drop masks derive from it
 */
public record MergeSpec(MergeMethod method, List<Double> weights, double density, long seed) {
  public MergeSpec {
    weights = List.copyOf(weights);
    if (weights.isEmpty()) {
      throw new IllegalArgumentException("weights: at least one adapter is needed");
    }
    for (double w : weights) {
      if (!Double.isFinite(w)) {
        throw new IllegalArgumentException("weights: every weight must be a finite number, got " + w);
      }
    }
    if (method == MergeMethod.LINEAR && weights.stream().mapToDouble(Double::doubleValue).sum() == 0) {
      throw new IllegalArgumentException("weights: a linear merge divides by their sum, which is 0");
    }
    if (method.usesDensity() && !(density > 0 && density <= 1)) {
      throw new IllegalArgumentException("density: must be in (0, 1] for " + method.cliName() + ", got " + density);
    }
  }

  /** Every adapter with weight 1. */
  public static MergeSpec equalWeights(MergeMethod method, int adapters, double density, long seed) {
    return new MergeSpec(method, java.util.Collections.nCopies(adapters, 1.0), density, seed);
  }
}
