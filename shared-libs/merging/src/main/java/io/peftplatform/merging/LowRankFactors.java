package io.peftplatform.merging;

import io.peftplatform.adapters.SeededStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A rank-r approximation of a matrix as LoRA factors with scaling 1: ΔW ≈ B·A with B = U_r·diag(S_r) and
 * A = V_rᵀ from its singular value decomposition. This is how several adapters become one LoRA.
 *
 * <p>Small matrices get an exact SVD. Larger ones get a randomized SVD (Halko, Martinsson and Tropp,
 * 2011): a sketch of {@code 2r + 8} columns of the range, refined by {@value #POWER_ITERATIONS} power
 * iterations, then an exact SVD of the small projected matrix. It is exact when ΔW's rank is at most the
 * sketch size (a linear merge of LoRA adapters whose ranks sum to no more than that) and otherwise
 * close to the optimal rank-r approximation, at the cost of a few matrix products instead of a full SVD.
 *
 * @param a (r, in)
 * @param b (out, r)
 */
public record LowRankFactors(INDArray a, INDArray b) {
  static final int POWER_ITERATIONS = 4;
  static final int OVERSAMPLING = 8;

  public static LowRankFactors of(String module, INDArray delta, int rank) {
    long out = delta.size(0);
    long in = delta.size(1);
    if (rank < 1 || rank > Math.min(out, in)) {
      throw new IllegalArgumentException("rank: must be between 1 and " + Math.min(out, in) + " for " + module + " ("
          + out + "x" + in + "), got " + rank);
    }
    long sketch = 2L * rank + OVERSAMPLING;
    INDArray[] usv = sketch >= Math.min(out, in) ? exactSvd(delta) : randomizedSvd(module, delta, (int) sketch);
    INDArray sr = usv[1].get(NDArrayIndex.interval(0, rank));
    INDArray b = usv[0].get(NDArrayIndex.all(), NDArrayIndex.interval(0, rank)).mulRowVector(sr).dup('c');
    INDArray a = usv[2].get(NDArrayIndex.all(), NDArrayIndex.interval(0, rank)).transpose().dup('c');
    return new LowRankFactors(a, b);
  }

  /** B·A (out, in). */
  public INDArray product() {
    return b.mmul(a);
  }

  /** {u (out, k), s (k) descending, v (in, k)} with m = u·diag(s)·vᵀ, k = min(out, in). */
  static INDArray[] exactSvd(INDArray m) {
    // libnd4j's svd wants rows >= columns: decompose mᵀ when m is wide and swap the factors.
    boolean wide = m.size(0) < m.size(1);
    INDArray tall = wide ? m.transpose().dup('c') : m.dup('c'); // (rows, cols), rows >= cols
    long rows = tall.size(0);
    long cols = tall.size(1);
    INDArray s = Nd4j.create(m.dataType(), cols); //              (cols)
    INDArray left = Nd4j.create(m.dataType(), rows, cols); //     (rows, cols)
    INDArray right = Nd4j.create(m.dataType(), cols, cols); //    (cols, cols)  tall = left·diag(s)·rightᵀ
    // Its flags are integers: full matrices 0, compute U and V 1, and the size from which it switches
    // from one-sided Jacobi to divide and conquer. The latter fails in ND4J 1.0.0-M2.1 ("NDArray::assign:
    // lengths of arrays are mismatched" from 16 columns up), so the switch is never reached.
    Nd4j.exec(DynamicCustomOp.builder("svd").addInputs(tall).addOutputs(s, left, right)
        .addIntegerArguments(0, 1, 1 << 20).build());
    return wide ? new INDArray[] {right, s, left} : new INDArray[] {left, s, right};
  }

  /** {u (out, l), s (l), v (in, l)}: the SVD of m restricted to an l-dimensional sketch of its range. */
  static INDArray[] randomizedSvd(String module, INDArray m, int l) {
    long in = m.size(1);
    // A reproducible test matrix: uniform on (−1, 1) from the module's own stream.
    SeededStream stream = new SeededStream(0x5eed_5bd0L, module);
    double[] omega = new double[(int) (in * l)];
    for (int i = 0; i < omega.length; i++) {
      omega[i] = 2.0 * stream.nextUniform24() - 1.0;
    }
    INDArray q = orthonormalColumns(m.mmul(Nd4j.create(omega, new long[] {in, l}, 'c').castTo(m.dataType())), stream); // (out, l)
    for (int i = 0; i < POWER_ITERATIONS; i++) {
      INDArray z = orthonormalColumns(m.transpose().mmul(q), stream); // (in, l)
      q = orthonormalColumns(m.mmul(z), stream); //                    (out, l)
    }
    INDArray projected = q.transpose().mmul(m); //                      (l, in) = qᵀ·m
    INDArray[] small = exactSvd(projected); //                          u (l, l), s (l), v (in, l)
    return new INDArray[] {q.mmul(small[0]), small[1], small[2]};
  }

  /**
   * Orthonormal columns spanning y's (n, l), by modified Gram–Schmidt applied twice, in plain arrays
   * (l is small: thousands of tiny ND4J calls would cost more than the arithmetic); a column that
   * vanishes (y of lower rank) is replaced by a random direction, still orthogonal to the others.
   */
  static INDArray orthonormalColumns(INDArray y, SeededStream stream) {
    int n = (int) y.size(0);
    int l = (int) y.size(1);
    double[] q = y.dup('f').data().asDouble(); // column j is q[j·n … j·n + n)
    for (int j = 0; j < l; j++) {
      int cj = j * n;
      double before = norm(q, cj, n);
      for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < j; k++) {
          int ck = k * n;
          double dot = 0;
          for (int i = 0; i < n; i++) {
            dot += q[ck + i] * q[cj + i];
          }
          for (int i = 0; i < n; i++) {
            q[cj + i] -= dot * q[ck + i];
          }
        }
      }
      double norm = norm(q, cj, n);
      if (!(norm > 1e-10 * Math.max(before, Double.MIN_NORMAL))) {
        for (int i = 0; i < n; i++) {
          q[cj + i] = 2.0 * stream.nextUniform24() - 1.0;
        }
        j--; // orthogonalise the random direction instead
        continue;
      }
      for (int i = 0; i < n; i++) {
        q[cj + i] /= norm;
      }
    }
    return Nd4j.create(q, new long[] {n, l}, 'f').castTo(y.dataType());
  }

  private static double norm(double[] a, int from, int n) {
    double sum = 0;
    for (int i = from; i < from + n; i++) {
      sum += a[i] * a[i];
    }
    return Math.sqrt(sum);
  }
}
