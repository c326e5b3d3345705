package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** NOLA's streamed fp32 passes against the same sums in fp64 by ND4J's products; n spans several blocks and a partial one. */
class NolaKernelsTest {
  @Test
  void combineAndProjectMatchTheProducts() {
    Nd4j.getRandom().setSeed(9);
    int k = 7;
    int n = 5000;
    INDArray bases = Nd4j.randn(DataType.DOUBLE, k, n);
    INDArray coef = Nd4j.randn(DataType.DOUBLE, k);
    INDArray init = Nd4j.randn(DataType.DOUBLE, 1, n);
    INDArray expected = init.add(coef.reshape(1, k).mmul(bases));

    INDArray out = Nd4j.create(DataType.FLOAT, 1, n).assign(Double.NaN);
    NolaKernels.combine(out, init.castTo(DataType.FLOAT), coef.castTo(DataType.FLOAT), bases.castTo(DataType.FLOAT));
    assertClose("init + Σ coef·basis", out, expected);
    NolaKernels.combine(out, null, coef.castTo(DataType.FLOAT), bases.castTo(DataType.FLOAT));
    assertClose("Σ coef·basis", out, expected.sub(init));

    INDArray d = Nd4j.randn(DataType.DOUBLE, n);
    INDArray grad = Nd4j.randn(DataType.DOUBLE, k);
    INDArray expectedGrad = grad.add(d.reshape(1, n).mmul(bases.transpose()).reshape(k));
    INDArray got = grad.castTo(DataType.FLOAT).dup();
    NolaKernels.project(got, d.castTo(DataType.FLOAT), bases.castTo(DataType.FLOAT));
    assertClose("grad + ⟨d, basis⟩", got, expectedGrad);
  }

  static void assertClose(String what, INDArray got, INDArray expected) {
    double[] x = got.castTo(DataType.DOUBLE).data().asDouble();
    double[] y = expected.data().asDouble();
    double worst = 0;
    for (int i = 0; i < y.length; i++) {
      assertThat(x[i]).as(what + " element " + i).isFinite();
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
    }
    assertThat(worst).as(what).isLessThan(1e-5);
  }
}
