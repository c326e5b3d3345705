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
    int d = (int) x.size(1);
    int n = (int) x.size(0);
    double[] w = weight.toDoubleVector();
    Rows xs = Rows.of(x);
    Rows ys = Rows.of(y);
    Rows rs = Rows.of(rstd);
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
    int d = (int) x.size(1);
    int n = (int) x.size(0);
    double[] w = weight.toDoubleVector();
    Rows dxs = Rows.of(dx);
    Rows dys = Rows.of(dy);
    Rows xs = Rows.of(x);
    Rows rs = Rows.of(rstd);
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
