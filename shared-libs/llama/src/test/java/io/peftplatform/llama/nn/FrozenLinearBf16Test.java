package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.safetensors.HalfFloats;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * BF16 products against their definition, computed here in double: the input rounded to BF16, the BF16
 * weight as it is, the exact sum rounded once to BF16 — so each result is within BF16's rounding (2⁻⁸
 * relative) of the rounded operands' exact product, plus what fp32 accumulation adds (ND4J's generic BF16
 * loop, which accumulates in BF16, fails this by 1.1x); and it is not the fp32 product
 * (the rounding is really there). Here on the build tests run (through fp32 BLAS); NativeBuildTest holds
 * oneDNN's native BF16 products to the same bound where the CPU has them.
 */
class FrozenLinearBf16Test {
  static final int ROWS = 37;
  static final int IN = 96;
  static final int OUT = 40;

  static float bf16(double v) {
    return HalfFloats.bf16ToFloat(HalfFloats.floatToBf16((float) v));
  }

  static INDArray random(Random rng, int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return Nd4j.create(v, new long[] {rows, cols}, 'c');
  }

  /** Σₖ bf16(a[r][k]) · w[k], exactly (in double), and Σₖ |…| for the accumulation's error bound. */
  static double[] reference(INDArray a, int r, INDArray w, boolean transposeW, int col) {
    double sum = 0;
    double abs = 0;
    for (int k = 0; k < a.size(1); k++) {
      double wk = transposeW ? w.getDouble(col, k) : w.getDouble(k, col);
      double t = bf16(a.getDouble(r, k)) * wk;
      sum += t;
      abs += Math.abs(t);
    }
    return new double[] {sum, abs};
  }

  /** The worst |result − definition| / tolerance over the elements; fails unless most results differ from fp32's. */
  static double worstError(INDArray result, INDArray a, INDArray w, boolean transposeW, INDArray before) {
    int differentFromFp32 = 0;
    double worst = 0;
    for (int r = 0; r < result.size(0); r++) {
      for (int c = 0; c < result.size(1); c++) {
        double[] ref = reference(a, r, w, transposeW, c);
        double got = result.getDouble(r, c) - (before == null ? 0 : before.getDouble(r, c));
        // BF16 rounding of the result (unit roundoff 2⁻⁸), plus fp32 accumulation over the terms
        double tolerance = Math.abs(ref[0]) * 0x1p-8 + ref[1] * a.size(1) * 0x1p-24 + (before == null ? 0 : Math.abs(before.getDouble(r, c)) * 0x1p-23);
        worst = Math.max(worst, Math.abs(got - ref[0]) / tolerance);
        double fp32 = 0;
        for (int k = 0; k < a.size(1); k++) {
          fp32 += a.getDouble(r, k) * (transposeW ? w.getDouble(c, k) : w.getDouble(k, c));
        }
        if (Math.abs(got - fp32) > Math.abs(fp32) * 1e-6) {
          differentFromFp32++;
        }
      }
    }
    assertThat(differentFromFp32).as("the products are rounded, not fp32's").isGreaterThan((int) (result.length() / 2));
    return worst;
  }

  /** Forward (with a bias) and backward (accumulating) of a BF16-weight layer: the worst error over both, in tolerances. */
  static double worstForwardBackwardError() {
    Random rng = new Random(5);
    INDArray w = random(rng, OUT, IN).castTo(DataType.BFLOAT16);
    INDArray bias = random(rng, 1, OUT).reshape(OUT);
    FrozenLinear linear = new FrozenLinear(w, bias);
    linear.bf16Products(true);

    INDArray x = random(rng, ROWS, IN);
    INDArray y = Nd4j.create(DataType.FLOAT, ROWS, OUT);
    linear.forward(y, x);
    double forward = worstError(y.subRowVector(bias), x, w, true, null);

    INDArray dy = random(rng, ROWS, OUT);
    INDArray dx = random(rng, ROWS, IN);
    INDArray before = dx.dup();
    linear.backward(dx, dy, x);
    return Math.max(forward, worstError(dx, dy, w, false, before)); // dx += dy · W
  }

  @Test
  void forwardAndBackwardAreBf16ProductsWidened() {
    assertThat(worstForwardBackwardError()).as("worst error, in tolerances (native BF16: %s)", NativeBuild.nativeBf16()).isLessThanOrEqualTo(1.0);
  }

  @Test
  void onlyABf16WeightMultipliesInBf16() {
    FrozenLinear fp32 = new FrozenLinear(Nd4j.rand(DataType.FLOAT, 4, 4), null);
    assertThatThrownBy(() -> fp32.bf16Products(true)).hasMessageContaining("held in BF16");
  }
}
