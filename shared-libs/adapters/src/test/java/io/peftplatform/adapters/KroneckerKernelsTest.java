package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The materialised Kronecker passes in both precisions against the definition: the product built with ND4J's
 * ops (an outer product laid out (a, b, c, d), permuted to (a, c, b, d)), the gradients as sums over that
 * layout written out element by element (the fp64 path is also checked by finite differences in
 * AdapterGradientTest; this covers fp32, which training uses). The larger shape is split over threads and
 * fills whole SIMD vectors.
 */
class KroneckerKernelsTest {
  @ParameterizedTest(name = "W1 {0}x{1}, W2 {2}x{3}")
  @CsvSource({"3, 4, 5, 6", "6, 8, 48, 37"})
  void composeAndContractMatchTheDefinitionInBothPrecisions(int a, int b, int c, int d) {
    Nd4j.getRandom().setSeed(5);
    INDArray w1 = Nd4j.randn(DataType.DOUBLE, a, b);
    INDArray w2 = Nd4j.randn(DataType.DOUBLE, c, d);
    INDArray w = Nd4j.randn(DataType.DOUBLE, a * c, b * d);
    INDArray g = Nd4j.randn(DataType.DOUBLE, a * c, b * d);
    double s = 0.75;
    INDArray outer = w1.reshape('c', (long) a * b, 1).mmul(w2.reshape('c', 1, (long) c * d));
    INDArray kron = outer.reshape('c', a, b, c, d).permute(0, 2, 1, 3).dup('c').reshape('c', (long) a * c, (long) b * d);
    INDArray expectedW = w.add(kron.mul(s));
    // dL/dW1[i, j] = s·Σ_{k,l} g[i·c + k, j·d + l]·W2[k, l]; dL/dW2[k, l] = s·Σ_{i,j} W1[i, j]·g[i·c + k, j·d + l]
    double[][] gv = g.toDoubleMatrix();
    double[][] f1 = w1.toDoubleMatrix();
    double[][] f2 = w2.toDoubleMatrix();
    double[][] e1 = new double[a][b];
    double[][] e2 = new double[c][d];
    for (int i = 0; i < a; i++) {
      for (int j = 0; j < b; j++) {
        for (int k = 0; k < c; k++) {
          for (int l = 0; l < d; l++) {
            e1[i][j] += s * gv[i * c + k][j * d + l] * f2[k][l];
            e2[k][l] += s * f1[i][j] * gv[i * c + k][j * d + l];
          }
        }
      }
    }
    INDArray expectedDw1 = Nd4j.createFromArray(e1);
    INDArray expectedDw2 = Nd4j.createFromArray(e2);
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double tolerance = type == DataType.DOUBLE ? 1e-12 : 2e-5;
      INDArray got = Nd4j.create(type, a * c, b * d);
      KroneckerKernels.compose(got, w.castTo(type), w1.castTo(type), w2.castTo(type), s);
      assertClose(type + " W'", got, expectedW, tolerance);
      INDArray dw1 = Nd4j.create(type, a, b).assign(Double.NaN);
      INDArray dw2 = Nd4j.create(type, c, d).assign(Double.NaN);
      KroneckerKernels.contract(g.castTo(type), w1.castTo(type), w2.castTo(type), s, dw1, dw2);
      assertClose(type + " dW1", dw1, expectedDw1, tolerance);
      assertClose(type + " dW2", dw2, expectedDw2, tolerance);
    }
    // a BF16 weight is widened exactly: the same W' as from its fp32 copy
    INDArray w16 = w.castTo(DataType.BFLOAT16);
    INDArray from16 = Nd4j.create(DataType.FLOAT, a * c, b * d);
    KroneckerKernels.compose(from16, w16, w1.castTo(DataType.FLOAT), w2.castTo(DataType.FLOAT), s);
    INDArray from32 = Nd4j.create(DataType.FLOAT, a * c, b * d);
    KroneckerKernels.compose(from32, w16.castTo(DataType.FLOAT), w1.castTo(DataType.FLOAT), w2.castTo(DataType.FLOAT), s);
    assertThat(from16).as("BF16 weight").isEqualTo(from32);
  }

  static void assertClose(String what, INDArray got, INDArray expected, double tolerance) {
    double[] x = got.castTo(DataType.DOUBLE).data().asDouble();
    double[] y = expected.castTo(DataType.DOUBLE).data().asDouble();
    double worst = 0;
    for (int i = 0; i < y.length; i++) {
      double e = Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i]));
      worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(worst, e);
    }
    assertThat(worst).as(what).isLessThan(tolerance);
  }
}
