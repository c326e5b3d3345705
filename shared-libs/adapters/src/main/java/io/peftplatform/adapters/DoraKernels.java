package io.peftplatform.adapters;

import io.peftplatform.llama.nn.RowMath;
import io.peftplatform.llama.nn.Rows;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DoRA's passes over memory, in fp32 from Java, each one read where ND4J's ops take a pass per op: the
 * adapted weight and its row norms in forward; in backward the magnitude's row sums (which ND4J reduces
 * slowly, a strided pass per column) and g ⊙ dy.
 */
final class DoraKernels {
  private DoraKernels() {}

  /**
   * W' = W + s·B·A row by row: its row norms into {@code norm} (unless null) and, unless {@code adapted} is
   * null, W' itself. W (out, in) fp32 or BF16 (widened exactly), B (out, r), A (r, in), the outputs fp32;
   * all dense.
   */
  static void compose(INDArray adapted, INDArray norm, INDArray w, INDArray b, INDArray a, float s) {
    int out = (int) w.size(0);
    int in = (int) w.size(1);
    int r = (int) a.size(0);
    float[] av = a.dup('c').data().asFloat();
    float[] bv = b.dup('c').data().asFloat();
    WeightRows weight = WeightRows.of(w);
    Rows target = adapted == null ? null : Rows.of(adapted);
    float[] norms = new float[out];
    Rows.parallel(out, (long) in * (r + 1), (from, to) -> {
      float[] row = new float[in];
      for (int j = from; j < to; j++) {
        weight.read(j * in, row, in);
        for (int k = 0; k < r; k++) {
          RowMath.axpy(row, 0, s * bv[j * r + k], av, k * in, in);
        }
        norms[j] = (float) Math.sqrt(RowMath.sumOfSquares(row, in));
        if (target != null) {
          target.writeFloats(j * in, row, in);
        }
      }
    });
    if (norm != null) {
      Rows.of(norm).writeFloats(0, norms, out);
    }
  }

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
