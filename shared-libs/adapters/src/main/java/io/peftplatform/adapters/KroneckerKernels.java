package io.peftplatform.adapters;

import io.peftplatform.llama.nn.RowMath;
import io.peftplatform.llama.nn.Rows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The two passes over an (out, in) matrix that a Kronecker adapter with a materialised weight needs, row
 * by row in Java: adding s·(W₁ ⊗ W₂) to a weight (fp32 rows split over the threads, on SIMD lanes through
 * {@link RowMath}), and contracting a weight-shaped gradient with one factor to get the other's. Element (i·c + k, j·d + l) of W₁ ⊗ W₂ is W₁[i, j]·W₂[k, l], for W₁ (a, b)
 * and W₂ (c, d). fp32 and fp64 arrays, each computed in its own precision.
 */
final class KroneckerKernels {
  private KroneckerKernels() {}

  /**
   * adapted (a·c, b·d) = weight + s·(w1 ⊗ w2). fp32: one pass, rows split over the threads, the weight
   * fp32 or BF16 ({@link WeightRows}); fp64: the weight copied, then the product added. adapted dense, C-order.
   */
  static void compose(INDArray adapted, INDArray weight, INDArray w1, INDArray w2, double s) {
    int b = (int) w1.size(1);
    int c = (int) w2.size(0);
    int d = (int) w2.size(1);
    int in = b * d;
    int out = (int) adapted.size(0);
    if (adapted.dataType() == DataType.FLOAT && WeightRows.readable(weight)) {
      float[] f1 = w1.dup('c').data().asFloat();
      float[] f2 = w2.dup('c').data().asFloat();
      WeightRows source = WeightRows.of(weight);
      Rows target = Rows.of(adapted);
      float sf = (float) s;
      Rows.parallel(out, in, (from, to) -> {
        float[] row = new float[in];
        for (int r = from; r < to; r++) {
          int i = r / c;
          int k = r % c;
          source.read(r * in, row, in);
          for (int j = 0; j < b; j++) {
            RowMath.axpy(row, j * d, sf * f1[i * b + j], f2, k * d, d);
          }
          target.writeFloats(r * in, row, in);
        }
      });
      return;
    }
    adapted.assign(weight); // converts a BF16 weight exactly
    Rows rows = Rows.of(adapted);
    double[] f1 = w1.dup('c').data().asDouble();
    double[] f2 = w2.dup('c').data().asDouble();
    double[] row = new double[in];
    for (int r = 0; r < out; r++) {
      int i = r / c;
      int k = r % c;
      rows.read(r * in, row, in);
      for (int j = 0; j < b; j++) {
        double scaled = s * f1[i * b + j];
        for (int l = 0; l < d; l++) {
          row[j * d + l] += scaled * f2[k * d + l];
        }
      }
      rows.write(r * in, row, in);
    }
  }

  /**
   * The factors' gradients from g (out, in), the loss's gradient by the layer's whole weight (dyᵀ·x):
   * dW1[i, j] = s·Σ_{k,l} g[i·c + k, j·d + l]·W₂[k, l] and dW2[k, l] = s·Σ_{i,j} W₁[i, j]·g[i·c + k, j·d + l].
   * Overwrites dW1 (a, b) and dW2 (c, d).
   */
  static void contract(INDArray g, INDArray w1, INDArray w2, double s, INDArray dW1, INDArray dW2) {
    int a = (int) w1.size(0);
    int b = (int) w1.size(1);
    int c = (int) w2.size(0);
    int d = (int) w2.size(1);
    int in = b * d;
    Rows rows = Rows.of(g);
    if (g.dataType() == DataType.FLOAT) {
      float[] f1 = w1.dup('c').data().asFloat();
      float[] f2 = w2.dup('c').data().asFloat();
      float[] d1 = new float[a * b];
      float[] d2 = new float[c * d];
      float[] row = new float[in];
      for (int r = 0; r < g.size(0); r++) {
        int i = r / c;
        int k = r % c;
        rows.readFloats(r * in, row, in);
        for (int j = 0; j < b; j++) {
          float dot = 0;
          float w1ij = f1[i * b + j];
          for (int l = 0; l < d; l++) {
            float x = row[j * d + l];
            dot += x * f2[k * d + l];
            d2[k * d + l] += w1ij * x;
          }
          d1[i * b + j] += dot;
        }
      }
      dW1.assign(Nd4j.createFromArray(d1).reshape(a, b).muli(s));
      dW2.assign(Nd4j.createFromArray(d2).reshape(c, d).muli(s));
      return;
    }
    double[] f1 = w1.dup('c').data().asDouble();
    double[] f2 = w2.dup('c').data().asDouble();
    double[] d1 = new double[a * b];
    double[] d2 = new double[c * d];
    double[] row = new double[in];
    for (int r = 0; r < g.size(0); r++) {
      int i = r / c;
      int k = r % c;
      rows.read(r * in, row, in);
      for (int j = 0; j < b; j++) {
        double dot = 0;
        double w1ij = f1[i * b + j];
        for (int l = 0; l < d; l++) {
          double x = row[j * d + l];
          dot += x * f2[k * d + l];
          d2[k * d + l] += w1ij * x;
        }
        d1[i * b + j] += dot;
      }
    }
    dW1.assign(Nd4j.createFromArray(d1).reshape(a, b).muli(s));
    dW2.assign(Nd4j.createFromArray(d2).reshape(c, d).muli(s));
  }
}
