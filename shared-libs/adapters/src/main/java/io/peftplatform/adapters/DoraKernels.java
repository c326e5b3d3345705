package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Rows;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DoRA's per-element pass in backward, in fp32 from Java: one read of dy and u for the magnitude's row sums
 * and g ⊙ dy, where ND4J's ops take a pass each and sum along rows slowly (a strided reduction per column).
 */
final class DoraKernels {
  private DoraKernels() {}

  /**
   * sums (out) = Σ_rows dy ⊙ u and dyg (N, out) = g ⊙ dy (row-wise broadcast), where u (N, out) is given, or,
   * with {@code uIsOutput}, is y / g for the output y passed as {@code u}. All fp32, dense.
   */
  static void magnitudeRows(INDArray dyg, INDArray sums, INDArray dy, INDArray u, INDArray g, boolean uIsOutput) {
    int rows = (int) dy.size(0);
    int out = (int) dy.size(1);
    float[] gv = g.dup('c').data().asFloat();
    Rows dys = Rows.of(dy);
    Rows us = Rows.of(u);
    Rows dygs = Rows.of(dyg);
    double[] total = new double[out];
    Rows.parallel(rows, out, (from, to) -> {
      float[] acc = new float[out];
      float[] d = new float[out];
      float[] v = new float[out];
      for (int i = from; i < to; i++) {
        dys.readFloats(i * out, d, out);
        us.readFloats(i * out, v, out);
        if (uIsOutput) {
          for (int j = 0; j < out; j++) {
            acc[j] += d[j] * (v[j] / gv[j]);
          }
        } else {
          for (int j = 0; j < out; j++) {
            acc[j] += d[j] * v[j];
          }
        }
        for (int j = 0; j < out; j++) {
          d[j] *= gv[j];
        }
        dygs.writeFloats(i * out, d, out);
      }
      synchronized (total) {
        for (int j = 0; j < out; j++) {
          total[j] += acc[j];
        }
      }
    });
    float[] s = new float[out];
    for (int j = 0; j < out; j++) {
      s[j] = (float) total[j];
    }
    Rows.of(sums).writeFloats(0, s, out);
  }
}
