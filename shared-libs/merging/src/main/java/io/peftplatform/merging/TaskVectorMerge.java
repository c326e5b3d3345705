package io.peftplatform.merging;

import io.peftplatform.adapters.SeededStream;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Combines the task vectors τᵢ = ΔWᵢ of one module into one, entry by entry, in double precision
 * (docs/merging.md). An adapter that leaves the module alone contributes a zero τ.
 */
public final class TaskVectorMerge {
  private TaskVectorMerge() {}

  /**
   * @param module the module's path, e.g. {@code model.layers.0.self_attn.q_proj}: names DARE's streams
   * @param taskVectors one (out, in) array per adapter, in the spec's order
   * @return the merged (out, in) task vector, in the first input's data type
   */
  public static INDArray merge(String module, List<INDArray> taskVectors, MergeSpec spec) {
    int n = taskVectors.size();
    if (n != spec.weights().size()) {
      throw new IllegalArgumentException(n + " task vectors but " + spec.weights().size() + " weights");
    }
    long[] shape = taskVectors.get(0).shape();
    double[][] tau = new double[n][];
    for (int i = 0; i < n; i++) {
      if (!Arrays.equals(taskVectors.get(i).shape(), shape)) {
        throw new IllegalArgumentException(module + ": task vectors of shapes " + Arrays.toString(shape) + " and "
            + Arrays.toString(taskVectors.get(i).shape()));
      }
      tau[i] = taskVectors.get(i).dup('c').data().asDouble();
      if (spec.method().randomDrop()) {
        dropAndRescale(tau[i], module, i, spec.seed(), spec.density());
      } else if (spec.method() == MergeMethod.TIES) {
        keepLargest(tau[i], spec.density());
      }
    }
    double[] w = spec.weights().stream().mapToDouble(Double::doubleValue).toArray();
    double weightSum = Arrays.stream(w).sum();
    double[] out = new double[tau[0].length];
    for (int e = 0; e < out.length; e++) {
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += w[i] * tau[i][e];
      }
      if (spec.method().signConsensus()) {
        double majority = sum >= 0 ? 1 : -1;
        double agreeing = 0;
        double agreeingWeight = 0;
        for (int i = 0; i < n; i++) {
          double v = w[i] * tau[i][e];
          if (Math.signum(v) == majority) {
            agreeing += v;
            agreeingWeight += w[i];
          }
        }
        out[e] = agreeingWeight == 0 ? agreeing : agreeing / agreeingWeight;
      } else {
        out[e] = spec.method() == MergeMethod.LINEAR ? sum / weightSum : sum;
      }
    }
    return Nd4j.create(out, shape, 'c').castTo(taskVectors.get(0).dataType());
  }

  /**
   * DARE: keeps entry e of adapter i where u &lt; density, u the e-th value (row-major) of
   * {@code SeededStream(seed, module + "#" + i)}, and divides the kept entries by the density.
   */
  static void dropAndRescale(double[] tau, String module, int adapterIndex, long seed, double density) {
    SeededStream stream = new SeededStream(seed, module + "#" + adapterIndex);
    for (int e = 0; e < tau.length; e++) {
      tau[e] = stream.nextUniform24() < density ? tau[e] / density : 0;
    }
  }

  /**
   * TIES' trim: keeps the ⌊density · n⌋ entries of largest magnitude (among equal magnitudes, the lower
   * row-major index first) and zeroes the rest.
   */
  static void keepLargest(double[] tau, double density) {
    int k = (int) (density * tau.length);
    if (k >= tau.length) {
      return;
    }
    if (k == 0) {
      Arrays.fill(tau, 0);
      return;
    }
    double[] magnitudes = new double[tau.length];
    for (int e = 0; e < tau.length; e++) {
      magnitudes[e] = Math.abs(tau[e]);
    }
    Arrays.sort(magnitudes);
    double threshold = magnitudes[tau.length - k];
    int above = 0;
    for (double v : tau) {
      if (Math.abs(v) > threshold) {
        above++;
      }
    }
    int atThreshold = k - above;
    for (int e = 0; e < tau.length; e++) {
      double m = Math.abs(tau[e]);
      if (m > threshold) {
        continue;
      }
      if (m == threshold && atThreshold > 0) {
        atThreshold--;
        continue;
      }
      tau[e] = 0;
    }
  }
}
