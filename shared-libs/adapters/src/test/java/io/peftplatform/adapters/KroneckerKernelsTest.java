package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The materialised Kronecker passes in both precisions against the definition built with ND4J's ops: the
 * product laid out element by element, and the gradients as sums over that layout (the fp64 path is also
 * checked by finite differences in AdapterGradientTest; this covers fp32, which training uses).
 */
class KroneckerKernelsTest {
  static final int A = 3;
  static final int B = 4;
  static final int C = 5;
  static final int D = 6;

  /** W₁ ⊗ W₂ (a·c, b·d) by its definition: an outer product laid out (a, b, c, d), permuted to (a, c, b, d). */
  static INDArray kron(INDArray w1, INDArray w2) {
    INDArray outer = w1.reshape('c', (long) A * B, 1).mmul(w2.reshape('c', 1, (long) C * D));
    return outer.reshape('c', A, B, C, D).permute(0, 2, 1, 3).dup('c').reshape('c', (long) A * C, (long) B * D);
  }

  @Test
  void addProductAndContractMatchTheDefinitionInBothPrecisions() {
    Nd4j.getRandom().setSeed(5);
    INDArray w1 = Nd4j.randn(DataType.DOUBLE, A, B);
    INDArray w2 = Nd4j.randn(DataType.DOUBLE, C, D);
    INDArray w = Nd4j.randn(DataType.DOUBLE, A * C, B * D);
    INDArray g = Nd4j.randn(DataType.DOUBLE, A * C, B * D);
    double s = 0.75;
    INDArray expectedW = w.add(kron(w1, w2).mul(s));
    // dL/dW1[i, j] = s · Σ g ⊙ (E_ij ⊗ W2): the sum over the block of g that W1[i, j] scales
    INDArray expectedDw1 = Nd4j.create(DataType.DOUBLE, A, B);
    INDArray expectedDw2 = Nd4j.create(DataType.DOUBLE, C, D);
    for (int i = 0; i < A; i++) {
      for (int j = 0; j < B; j++) {
        INDArray unit = Nd4j.create(DataType.DOUBLE, A, B);
        unit.putScalar(i, j, 1.0);
        expectedDw1.putScalar(i, j, g.mul(kron(unit, w2)).sumNumber().doubleValue() * s);
      }
    }
    for (int k = 0; k < C; k++) {
      for (int l = 0; l < D; l++) {
        INDArray unit = Nd4j.create(DataType.DOUBLE, C, D);
        unit.putScalar(k, l, 1.0);
        expectedDw2.putScalar(k, l, g.mul(kron(w1, unit)).sumNumber().doubleValue() * s);
      }
    }
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-5;
      INDArray got = w.castTo(type).dup();
      KroneckerKernels.addProduct(got, w1.castTo(type), w2.castTo(type), s);
      assertClose(type + " W'", got, expectedW, tolerance);
      INDArray dw1 = Nd4j.create(type, A, B).assign(Double.NaN);
      INDArray dw2 = Nd4j.create(type, C, D).assign(Double.NaN);
      KroneckerKernels.contract(g.castTo(type), w1.castTo(type), w2.castTo(type), s, dw1, dw2);
      assertClose(type + " dW1", dw1, expectedDw1, tolerance);
      assertClose(type + " dW2", dw2, expectedDw2, tolerance);
    }
  }

  static void assertClose(String what, INDArray got, INDArray expected, double tolerance) {
    double[] x = got.castTo(DataType.DOUBLE).data().asDouble();
    double[] y = expected.data().asDouble();
    double worst = 0;
    for (int i = 0; i < y.length; i++) {
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
    }
    assertThat(worst).as(what).isLessThan(tolerance);
  }
}
