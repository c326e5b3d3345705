package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fp32 SIMD kernels (the path training takes when the JVM has the Vector API, as the tests' JVM does)
 * against the other path on the same inputs: the double-precision row kernels or ND4J's ops. Row lengths
 * that are not a multiple of the vector width exercise the scalar tails.
 */
class VectorKernelsTest {
  static final double TOLERANCE = 2e-6;

  @Test
  void theTestJvmTakesTheSimdPath() {
    assertThat(Rows.VECTOR).as("surefire starts the JVM with --add-modules=jdk.incubator.vector").isTrue();
  }

  static INDArray random(long seed, double scale, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(DataType.FLOAT, shape).muli(scale);
  }

  static void assertClose(INDArray simd, INDArray reference) {
    double worst = simd.castTo(DataType.DOUBLE).sub(reference.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    double size = Math.max(1e-30, reference.amaxNumber().doubleValue());
    assertThat(worst / size).as("largest difference relative to the largest value").isLessThan(TOLERANCE);
  }

  @Test
  void maskedSoftmaxMatchesTheDoubleRowsIncludingPaddingAndPackedRows() {
    int batch = 2;
    int heads = 3;
    int t = 37;
    INDArray mask = Nd4j.create(DataType.FLOAT, batch, t, t);
    int[] keyMask = new int[batch * t];
    for (int j = 0; j < t; j++) {
      keyMask[j] = j < 20 ? 1 : 2; // row 0 packs two examples
      keyMask[t + j] = j < 30 ? 1 : 0; // row 1 ends in padding
    }
    Attention.causalMask(mask, keyMask, 0, 0);
    INDArray scores = random(1, 4.0, batch, heads * t, t);
    INDArray simd = scores.dup();
    INDArray reference = scores.dup();
    Attention.maskedSoftmax(simd, mask, heads, true);
    Attention.maskedSoftmax(reference, mask, heads, false);
    assertClose(simd, reference);
    assertThat(simd.sum(2).sub(1.0).amaxNumber().doubleValue()).isLessThan(1e-5);
  }

  @Test
  void rmsNormForwardAndBackwardMatchTheDoubleRows() {
    long n = 6;
    int d = 45;
    INDArray x = random(7, 2.0, n, d);
    INDArray w = random(8, 0.3, d).addi(1);
    INDArray dy = random(9, 1.0, n, d);
    INDArray[] simd = {Nd4j.create(DataType.FLOAT, n, d), Nd4j.create(DataType.FLOAT, n), random(10, 1.0, n, d)};
    INDArray[] reference = {Nd4j.create(DataType.FLOAT, n, d), Nd4j.create(DataType.FLOAT, n), simd[2].dup()};
    RmsNorm.forward(simd[0], simd[1], x, w, 1e-5, true);
    RmsNorm.forward(reference[0], reference[1], x, w, 1e-5, false);
    assertClose(simd[0], reference[0]);
    assertClose(simd[1], reference[1]);
    RmsNorm.backward(simd[2], dy.dup(), x, reference[1], w, true);
    RmsNorm.backward(reference[2], dy.dup(), x, reference[1], w, false);
    assertClose(simd[2], reference[2]);
  }

  @Test
  void softmaxBackwardMatches() {
    INDArray e = org.nd4j.linalg.ops.transforms.Transforms.exp(random(2, 1.0, 4, 45));
    INDArray probs = e.divColumnVector(e.sum(1));
    INDArray g = random(3, 1.0, 4, 45);
    INDArray simd = g.dup();
    INDArray reference = g.dup();
    Attention.softmaxBackward(simd, probs, true);
    Attention.softmaxBackward(reference, probs, false);
    assertClose(simd, reference);
  }

  @Test
  void swigluForwardAndBackwardMatchNd4jsOps() {
    long n = 5;
    long f = 43;
    INDArray gate = random(4, 3.0, n, f);
    INDArray up = random(5, 1.0, n, f);
    INDArray dAct = random(6, 1.0, n, f);
    INDArray[] simd = {Nd4j.create(DataType.FLOAT, n, f), Nd4j.create(DataType.FLOAT, n, f)};
    INDArray[] reference = {Nd4j.create(DataType.FLOAT, n, f), Nd4j.create(DataType.FLOAT, n, f)};
    SwiGlu.forward(simd[0], simd[1], gate, up, true);
    SwiGlu.forward(reference[0], reference[1], gate, up, false);
    assertClose(simd[0], reference[0]);
    assertClose(simd[1], reference[1]);
    Arena arena = new Arena(DataType.FLOAT);
    INDArray[] dSimd = {Nd4j.create(DataType.FLOAT, n, f), Nd4j.create(DataType.FLOAT, n, f)};
    INDArray[] dReference = {Nd4j.create(DataType.FLOAT, n, f), Nd4j.create(DataType.FLOAT, n, f)};
    SwiGlu.backward(dSimd[0], dSimd[1], dAct, gate, reference[1], up, arena, true);
    SwiGlu.backward(dReference[0], dReference[1], dAct, gate, reference[1], up, arena, false);
    assertClose(dSimd[0], dReference[0]);
    assertClose(dSimd[1], dReference[1]);
  }

  @Test
  void crossEntropyLossAndGradientMatchNd4jsOps() {
    int n = 6;
    int vocab = 1001;
    INDArray hidden = random(7, 1.0, n, 16);
    INDArray head = random(8, 1.0, vocab, 16);
    int[] targets = {3, CrossEntropy.IGNORE, 1000, 0, 517, 42};
    INDArray dSimd = Nd4j.create(DataType.FLOAT, n, 16);
    INDArray dReference = Nd4j.create(DataType.FLOAT, n, 16);
    CrossEntropy.Sum simd = CrossEntropy.forwardBackward(hidden, targets, head, 0.25, dSimd, new Arena(DataType.FLOAT), true);
    CrossEntropy.Sum reference = CrossEntropy.forwardBackward(hidden, targets, head, 0.25, dReference, new Arena(DataType.FLOAT), false);
    assertThat(simd.tokens()).isEqualTo(5);
    assertThat(simd.loss()).isCloseTo(reference.loss(), org.assertj.core.data.Offset.offset(1e-5 * Math.abs(reference.loss())));
    assertClose(dSimd, dReference);
    assertThat(dSimd.getRow(1).amaxNumber().doubleValue()).as("an ignored row gets no gradient").isZero();
  }

  /** RowMath's SIMD path: axpy term by term the same fused multiply-adds as one value at a time; Σx² to fp32. */
  @Test
  void axpyAndSumOfSquaresMatchOneValueAtATime() {
    java.util.Random random = new java.util.Random(3);
    for (int n : new int[] {1, 7, 16, 24, 37, 576}) {
      float[] x = new float[n + 5];
      float[] y = new float[n + 3];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) random.nextGaussian();
      }
      for (int i = 0; i < y.length; i++) {
        y[i] = (float) random.nextGaussian();
      }
      float[] expected = y.clone();
      for (int j = 0; j < n; j++) {
        expected[2 + j] = Math.fma(x[5 + j], 0.3f, expected[2 + j]);
      }
      float[] got = y.clone();
      RowMath.axpy(got, 2, 0.3f, x, 5, n);
      org.assertj.core.api.Assertions.assertThat(got).as("axpy n=" + n).isEqualTo(expected);
      double squares = 0;
      for (int j = 0; j < n; j++) {
        squares += (double) x[j] * x[j];
      }
      org.assertj.core.api.Assertions.assertThat((double) RowMath.sumOfSquares(x, n)).as("Σx² n=" + n)
          .isCloseTo(squares, org.assertj.core.data.Offset.offset(squares * 1e-6));
    }
  }

  @Test
  void expIsWithinTwoUlpsAcrossItsRangeAndZeroBelowIt() {
    float[] xs = new float[4096];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = -100f + 200f * i / (xs.length - 1);
    }
    for (float x : xs) {
      float e = VectorKernels.exp(x);
      double exact = Math.exp(x);
      if (x < -87.34f) {
        assertThat(e).as("exp(%s)", x).isZero();
      } else if (x <= 88f) {
        assertThat(Math.abs(e - exact)).as("exp(%s)", x).isLessThanOrEqualTo(2 * Math.ulp((float) exact));
      } else {
        assertThat(e).as("exp(%s) is clamped, finite", x).isEqualTo(VectorKernels.exp(88f)).isFinite();
      }
    }
    float[] lanes = new float[xs.length];
    for (int i = 0; i + 8 <= xs.length; i += jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length()) {
      VectorKernels.exp(jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, xs, i))
          .intoArray(lanes, i);
    }
    for (int i = 0; i < xs.length; i++) {
      assertThat(lanes[i]).as("lanes and the scalar tail agree bit for bit at %s", xs[i]).isEqualTo(VectorKernels.exp(xs[i]));
    }
  }
}
