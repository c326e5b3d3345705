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
 * The BF16 head against its definition in double: logits from the hidden states rounded to BF16 and the
 * BF16 head, the loss from those logits, dhidden = dlogits · E. Each result is held within the error
 * bound that BF16's rounding of the logits, of dlogits and of dhidden allows (unit roundoff 2⁻⁸, fp32
 * accumulation on top), on the SIMD kernel (which reads and writes the BF16 logits) and on ND4J's ops; and
 * it is not the fp32 head's result (the rounding is really there). Here through fp32 BLAS (the build tests
 * run); NativeBuildTest holds oneDNN's native BF16 head to the same bounds where the CPU has it.
 */
class CrossEntropyBf16Test {
  static final int ROWS = 41;
  static final int DIM = 48;
  static final int VOCAB = 333; // not a multiple of any vector width: every row has a tail
  static final double SCALE = 0.25;

  static double bf16(double v) {
    return HalfFloats.bf16ToFloat(HalfFloats.floatToBf16((float) v));
  }

  static INDArray random(Random rng, double sd, int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rng.nextGaussian() * sd);
    }
    return Nd4j.create(v, new long[] {rows, cols}, 'c');
  }

  /** Scored rows in three runs (each its own chunk), ignored rows between them. */
  static int[] targets(Random rng) {
    int[] t = new int[ROWS];
    for (int r = 0; r < ROWS; r++) {
      t[r] = r == 0 || r == 17 || r == 18 || r == 30 ? CrossEntropy.IGNORE : rng.nextInt(VOCAB);
    }
    t[5] = VOCAB - 1;
    t[6] = 0;
    return t;
  }

  @Test
  void lossAndGradientAreTheBf16HeadsWithinItsRounding() {
    assertThat(worstError()).as("worst error in its bound (native BF16: %s)", NativeBuild.nativeBf16()).isLessThanOrEqualTo(1.0);
  }

  /**
   * The worst error of the loss and of dhidden, each over its bound, on the SIMD kernel (where this JVM has
   * the Vector API) and on ND4J's ops; asserts on the way that the results are not the fp32 head's.
   */
  static double worstError() {
    double worstOverall = 0;
    Random rng = new Random(11);
    INDArray hidden = random(rng, 1.0, ROWS, DIM);
    INDArray head = random(rng, 0.5, VOCAB, DIM).castTo(DataType.BFLOAT16); // logits of a few units
    int[] targets = targets(rng);
    for (boolean simd : Rows.VECTOR ? new boolean[] {true, false} : new boolean[] {false}) {
      INDArray dHidden = Nd4j.create(DataType.FLOAT, ROWS, DIM);
      CrossEntropy.Sum sum = CrossEntropy.forwardBackward(hidden, targets, head, SCALE, dHidden, new Arena(DataType.FLOAT), simd);
      INDArray dFp32 = Nd4j.create(DataType.FLOAT, ROWS, DIM);
      CrossEntropy.Sum fp32 = CrossEntropy.forwardBackward(hidden, targets, head.castTo(DataType.FLOAT), SCALE, dFp32,
          new Arena(DataType.FLOAT), simd);
      assertThat(sum.tokens()).isEqualTo(ROWS - 4);

      double lossBound = 0;
      double loss = 0;
      int gradientsUnlikeFp32 = 0;
      double worst = 0;
      for (int r = 0; r < ROWS; r++) {
        if (targets[r] == CrossEntropy.IGNORE) {
          assertThat(dHidden.getRow(r).amaxNumber().doubleValue()).as("an ignored row gets no gradient").isZero();
          continue;
        }
        // logits of the rounded operands, exactly, and how far BF16 rounding + fp32 accumulation may move each
        double[] logit = new double[VOCAB];
        double[] logitError = new double[VOCAB];
        double maxLogitError = 0;
        for (int v = 0; v < VOCAB; v++) {
          double abs = 0;
          for (int k = 0; k < DIM; k++) {
            double term = bf16(hidden.getDouble(r, k)) * head.getDouble(v, k);
            logit[v] += term;
            abs += Math.abs(term);
          }
          logitError[v] = Math.abs(logit[v]) * 0x1p-8 + abs * DIM * 0x1p-24;
          maxLogitError = Math.max(maxLogitError, logitError[v]);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logit) {
          max = Math.max(max, l);
        }
        double z = 0;
        for (double l : logit) {
          z += Math.exp(l - max);
        }
        loss += Math.log(z) + max - logit[targets[r]];
        lossBound += 2 * maxLogitError + 1e-6; // log-sum-exp moves at most as far as the furthest logit
        // dlogits = scale · (p − onehot): p moves by at most p · 2 · maxLogitError, and dlogits round to BF16
        for (int k = 0; k < DIM; k++) {
          double exact = 0;
          double bound = 0;
          for (int v = 0; v < VOCAB; v++) {
            double p = Math.exp(logit[v] - max) / z;
            double dl = SCALE * (p - (v == targets[r] ? 1 : 0));
            double e = head.getDouble(v, k);
            exact += dl * e;
            bound += (SCALE * p * 2.1 * maxLogitError + Math.abs(dl) * 0x1p-8 + 1e-7) * Math.abs(e) + Math.abs(dl * e) * VOCAB * 0x1p-24;
          }
          bound += Math.abs(exact) * 0x1p-8; // dhidden's own rounding
          double got = dHidden.getDouble(r, k);
          worst = Math.max(worst, Math.abs(got - exact) / bound);
          if (Math.abs(got - dFp32.getDouble(r, k)) > 1e-6 * Math.abs(exact)) {
            gradientsUnlikeFp32++;
          }
        }
      }
      assertThat(Math.abs(sum.loss() - fp32.loss())).as("the logits are rounded, not fp32's").isGreaterThan(1e-5 * Math.abs(fp32.loss()));
      assertThat(gradientsUnlikeFp32).as("dhidden is rounded, not fp32's").isGreaterThan((ROWS - 4) * DIM / 2);
      worstOverall = Math.max(worstOverall, Math.max(Math.abs(sum.loss() - loss) / lossBound, worst));
    }
    return worstOverall;
  }

  @Test
  void aBf16HeadNeedsFp32HiddenStates() {
    INDArray head = Nd4j.rand(DataType.FLOAT, 10, 4).castTo(DataType.BFLOAT16);
    assertThatThrownBy(() -> CrossEntropy.forward(Nd4j.rand(DataType.DOUBLE, 2, 4), new int[] {1, 2}, head, new Arena(DataType.DOUBLE)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fp32 hidden states");
  }
}
