package io.peftplatform.llama.nn;

/**
 * fp32 row arithmetic for kernels outside this package (the adapters'): on SIMD lanes through
 * {@link VectorKernels} where the JVM has the Vector API ({@link Rows#VECTOR}), else plain loops with the same
 * fused multiply-adds (the sum of squares then adds in another order). HotSpot 17 does not vectorise
 * {@code y[j] += c * x[from + j]} on its own: it cannot rule out that y and x are one array.
 */
public final class RowMath {
  private RowMath() {}

  /** y[yFrom, yFrom + n) += c · x[xFrom, xFrom + n). */
  public static void axpy(float[] y, int yFrom, float c, float[] x, int xFrom, int n) {
    if (Rows.VECTOR) {
      VectorKernels.axpy(y, yFrom, c, x, xFrom, n);
      return;
    }
    for (int j = 0; j < n; j++) {
      y[yFrom + j] = Math.fma(x[xFrom + j], c, y[yFrom + j]);
    }
  }

  /** Σ x[j]² over [0, n). */
  public static float sumOfSquares(float[] x, int n) {
    if (Rows.VECTOR) {
      return VectorKernels.sumOfSquares(x, n);
    }
    float s = 0;
    for (int j = 0; j < n; j++) {
      s = Math.fma(x[j], x[j], s);
    }
    return s;
  }
}
