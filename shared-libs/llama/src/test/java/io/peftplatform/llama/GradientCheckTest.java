package io.peftplatform.llama;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The checker itself must fail on a wrong gradient, or every gradient test proves nothing. */
class GradientCheckTest {
  @Test
  void rejectsAGradientOffByOnePercent() {
    INDArray x = Nd4j.createFromArray(1.0, -2.0, 0.5);
    INDArray rightGradient = x.mul(2); // d/dx Σ x² = 2x
    GradientCheck.check("x^2", x, rightGradient, () -> x.mul(x).sumNumber().doubleValue());
    INDArray wrong = rightGradient.mul(1.01);
    assertThatThrownBy(() -> GradientCheck.check("x^2", x, wrong, () -> x.mul(x).sumNumber().doubleValue()))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void rejectsAllZeroGradients() {
    INDArray x = Nd4j.createFromArray(1.0, 2.0);
    assertThatThrownBy(() -> GradientCheck.check("const", x, Nd4j.zeros(DataType.DOUBLE, 2), () -> 3.0))
        .hasMessageContaining("has gradients to check");
  }
}
