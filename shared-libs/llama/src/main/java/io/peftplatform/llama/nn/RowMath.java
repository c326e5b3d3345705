package io.peftplatform.llama.nn;

/**
 * fp32 row arithmetic for kernels outside this package (the adapters'): on SIMD lanes through
 * {@link VectorKernels} where the JVM has the Vector API ({@link Rows#VECTOR}), else plain loops with the same
 * fused multiply-adds (the sum of squares then adds in another order). HotSpot 17 does not vectorise
 * {@code y[j] += c * x[from + j]} on its own: it cannot rule out that y and x are one array.
 */
public final class RowMath {
  /** What {@link #gemm}'s columns are padded to a multiple of: the floats in a SIMD vector (1 without the Vector API). */
  public static final int LANES = Rows.VECTOR ? VectorKernels.lanes() : 1;

  private RowMath() {}

  /**
   * A small product in L1: out[r·cols + col] = (out +) Σ_{t < q} a[r·lda + t] · b[t·ldb + col] for r < rows and
   * col < cols, with rows a multiple of 4 and cols of {@link #LANES} (pad operands with zeros): the rows of a
   * are broadcast, b's and out's rows are vectors. On SIMD lanes in 4-row register tiles, else plain loops.
   */
  public static void gemm(int rows, int cols, int q, float[] a, int lda, float[] b, int ldb, float[] out, boolean add) {
    if (rows % 4 != 0 || cols % LANES != 0) {
      throw new IllegalArgumentException("rows must be a multiple of 4 and cols of " + LANES + ": " + rows + " x " + cols);
    }
    if (Rows.VECTOR) {
      VectorKernels.gemm(rows, cols, q, a, lda, b, ldb, out, add);
      return;
    }
    for (int r = 0; r < rows; r++) {
      for (int col = 0; col < cols; col++) {
        float sum = add ? out[r * cols + col] : 0f;
        for (int t = 0; t < q; t++) {
          sum = Math.fma(a[r * lda + t], b[t * ldb + col], sum);
        }
        out[r * cols + col] = sum;
      }
    }
  }

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
