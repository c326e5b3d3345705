package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Rows;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * NOLA's two passes over its frozen bases, in fp32 from Java: combining them with the coefficients, and
 * projecting a factor's gradient onto them. Both stream the bases once, split over the compute threads —
 * a (1, k) × (k, n) product, which BLAS runs as one thin row at a fraction of the memory's speed.
 */
final class NolaKernels {
  /** Columns per unit of work: a few KB of the output, read from every basis. */
  private static final int BLOCK = 2048;

  private NolaKernels() {}

  /** out (n) = init + Σᵢ coef[i]·bases[i] for bases (k, n); without init, the sum alone. All fp32, dense. */
  static void combine(INDArray out, INDArray init, INDArray coef, INDArray bases) {
    int k = (int) bases.size(0);
    int n = (int) bases.size(1);
    float[] c = coef.dup('c').data().asFloat();
    Rows basis = Rows.of(bases);
    Rows target = Rows.of(out);
    Rows start = init == null ? null : Rows.of(init);
    int blocks = (n + BLOCK - 1) / BLOCK;
    Rows.parallel(blocks, (long) BLOCK * k, (from, to) -> {
      float[] acc = new float[BLOCK];
      float[] row = new float[BLOCK];
      for (int block = from; block < to; block++) {
        int at = block * BLOCK;
        int len = Math.min(BLOCK, n - at);
        if (start != null) {
          start.readFloats(at, acc, len);
        } else {
          Arrays.fill(acc, 0, len, 0f);
        }
        for (int i = 0; i < k; i++) {
          basis.readFloats(i * n + at, row, len);
          float ci = c[i];
          for (int j = 0; j < len; j++) {
            acc[j] += ci * row[j];
          }
        }
        target.writeFloats(at, acc, len);
      }
    });
  }

  /** grad[i] += ⟨d, bases[i]⟩ for bases (k, n) and d (n). All fp32, dense. */
  static void project(INDArray grad, INDArray d, INDArray bases) {
    int k = (int) bases.size(0);
    int n = (int) bases.size(1);
    float[] dv = d.dup('c').data().asFloat();
    Rows basis = Rows.of(bases);
    float[] dots = new float[k];
    Rows.parallel(k, n, (from, to) -> {
      float[] row = new float[n];
      for (int i = from; i < to; i++) {
        basis.readFloats(i * n, row, n);
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
          s0 += dv[j] * row[j];
          s1 += dv[j + 1] * row[j + 1];
          s2 += dv[j + 2] * row[j + 2];
          s3 += dv[j + 3] * row[j + 3];
        }
        for (; j < n; j++) {
          s0 += dv[j] * row[j];
        }
        dots[i] = (s0 + s1) + (s2 + s3);
      }
    });
    grad.addi(Nd4j.createFromArray(dots).reshape(grad.shape()));
  }
}
