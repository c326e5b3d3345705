package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;


/** Root-mean-square layer norm: y = w ⊙ x / sqrt(mean(x²) + eps), per row. */
public final class RmsNorm {
  private RmsNorm() {}

  /**
   * @param y (N, D) output
   * @param rstd (N) output: 1 / sqrt(mean(x²) + eps), kept for backward
   * @param x (N, D)
   * @param weight (D)
   */
  public static void forward(INDArray y, INDArray rstd, INDArray x, INDArray weight, double eps) {
    forward(y, rstd, x, weight, eps, Rows.simd(y, rstd, x));
  }

  /** @param simd through {@link VectorKernels} (fp32 arrays, the Vector API present), else row by row in double */
  static void forward(INDArray y, INDArray rstd, INDArray x, INDArray weight, double eps, boolean simd) {
    int d = (int) x.size(1);
    int n = (int) x.size(0);
    Rows xs = Rows.of(x);
    Rows ys = Rows.of(y);
    Rows rs = Rows.of(rstd);
    if (simd) {
      float[] wf = weight.toFloatVector();
      Rows.parallel(n, d, (from, to) -> {
        float[] row = new float[d];
        float[] r = new float[1];
        for (int i = from; i < to; i++) {
          xs.readFloats(i * d, row, d);
          r[0] = VectorKernels.rmsNormRow(row, wf, d, (float) eps);
          ys.writeFloats(i * d, row, d);
          rs.writeFloats(i, r, 1);
        }
      });
      return;
    }
    double[] w = weight.toDoubleVector();
    Rows.parallel(n, d, (from, to) -> {
      double[] row = new double[d];
      double[] r = new double[1];
      for (int i = from; i < to; i++) {
        xs.read(i * d, row, d);
        double ss = 0;
        for (int j = 0; j < d; j++) {
          ss += row[j] * row[j];
        }
        r[0] = 1.0 / Math.sqrt(ss / d + eps);
        for (int j = 0; j < d; j++) {
          row[j] = row[j] * r[0] * w[j];
        }
        ys.write(i * d, row, d);
        rs.write(i, r, 1);
      }
    });
  }

  /**
   * dx += rstd ⊙ (g − x̂ ⊙ mean(g ⊙ x̂)) with g = dy ⊙ w and x̂ = x ⊙ rstd (the weight is frozen).
   *
   * @param dx (N, D) accumulated
   * @param dy (N, D)
   * @param x (N, D) forward input
   * @param rstd (N) from forward
   * @param weight (D)
   */
  public static void backward(INDArray dx, INDArray dy, INDArray x, INDArray rstd, INDArray weight) {
    backward(dx, dy, x, rstd, weight, Rows.simd(dx, dy, x, rstd));
  }

  static void backward(INDArray dx, INDArray dy, INDArray x, INDArray rstd, INDArray weight, boolean simd) {
    int d = (int) x.size(1);
    int n = (int) x.size(0);
    Rows dxs = Rows.of(dx);
    Rows dys = Rows.of(dy);
    Rows xs = Rows.of(x);
    Rows rs = Rows.of(rstd);
    if (simd) {
      float[] wf = weight.toFloatVector();
      Rows.parallel(n, d, (from, to) -> {
        float[] g = new float[d];
        float[] xr = new float[d];
        float[] acc = new float[d];
        float[] r = new float[1];
        for (int i = from; i < to; i++) {
          dys.readFloats(i * d, g, d);
          xs.readFloats(i * d, xr, d);
          rs.readFloats(i, r, 1);
          dxs.readFloats(i * d, acc, d);
          VectorKernels.rmsNormBackwardRow(acc, g, xr, wf, r[0], d);
          dxs.writeFloats(i * d, acc, d);
        }
      });
      return;
    }
    double[] w = weight.toDoubleVector();
    Rows.parallel(n, d, (from, to) -> {
      double[] g = new double[d];
      double[] xhat = new double[d];
      double[] acc = new double[d];
      double[] r = new double[1];
      for (int i = from; i < to; i++) {
        dys.read(i * d, g, d);
        xs.read(i * d, xhat, d);
        rs.read(i, r, 1);
        double c = 0;
        for (int j = 0; j < d; j++) {
          g[j] *= w[j];
          xhat[j] *= r[0];
          c += g[j] * xhat[j];
        }
        c /= d;
        dxs.read(i * d, acc, d);
        for (int j = 0; j < d; j++) {
          acc[j] += r[0] * (g[j] - xhat[j] * c);
        }
        dxs.write(i * d, acc, d);
      }
    });
  }
}
