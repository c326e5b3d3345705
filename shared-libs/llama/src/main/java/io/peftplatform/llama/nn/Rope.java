package io.peftplatform.llama.nn;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rotary position embedding in the Hugging Face layout ("rotate half"): within each head, element i of
 * the first half and element i of the second half form the pair rotated by angle position · invFreq[i].
 */
public final class Rope {
  private final double[] inverseFrequencies; // (headDim / 2)

  public Rope(double[] inverseFrequencies) {
    this.inverseFrequencies = inverseFrequencies.clone();
  }

  public int halfDim() {
    return inverseFrequencies.length;
  }

  /**
   * Fills the cosines and sines for rows at the given positions. For fp32 tables the angle is computed
   * in fp32 as transformers' rotary embedding does (which matters at long positions); for fp64 tables,
   * in fp64.
   *
   * @param cos (N, headDim/2) output
   * @param sin (N, headDim/2) output
   */
  public void tables(INDArray cos, INDArray sin, int[] positions) {
    int half = halfDim();
    DataType type = cos.dataType();
    boolean single = type != DataType.DOUBLE;
    double[] c = new double[positions.length * half];
    double[] s = new double[positions.length * half];
    for (int n = 0; n < positions.length; n++) {
      for (int i = 0; i < half; i++) {
        double angle = single
            ? (float) positions[n] * (float) inverseFrequencies[i]
            : positions[n] * inverseFrequencies[i];
        c[n * half + i] = single ? (float) Math.cos(angle) : Math.cos(angle);
        s[n * half + i] = single ? (float) Math.sin(angle) : Math.sin(angle);
      }
    }
    cos.assign(Nd4j.createFromArray(c).castTo(type).reshape(positions.length, half));
    sin.assign(Nd4j.createFromArray(s).castTo(type).reshape(positions.length, half));
  }

  /**
   * Rotates x in place: (x1, x2) ← (x1·cos − x2·sin, x2·cos + x1·sin) per head. Passing −sin applies
   * the inverse rotation (the backward pass).
   *
   * @param x (N, heads·headDim)
   * @param cos (N, headDim/2)
   * @param sin (N, headDim/2)
   */
  public static void apply(INDArray x, int heads, INDArray cos, INDArray sin, Arena arena) {
    long n = x.size(0);
    long half = cos.size(1);
    INDArray x3 = x.reshape('c', n, heads, 2 * half);
    INDArray x1 = x3.get(all(), all(), interval(0, half)); // (N, heads, half)
    INDArray x2 = x3.get(all(), all(), interval(half, 2 * half)); // (N, heads, half)
    INDArray t1 = arena.get("rope.t1", n, heads, half);
    INDArray t2 = arena.get("rope.t2", n, heads, half);
    Ops.broadcastMul(t1, x1, cos, 0, 2); // x1·cos
    Ops.broadcastMul(t2, x2, sin, 0, 2); // x2·sin
    t1.subi(t2); // new first half
    Ops.broadcastMul(t2, x1, sin, 0, 2); // x1·sin
    Ops.broadcastMul(x2, x2, cos, 0, 2); // x2·cos
    x2.addi(t2); // new second half
    x1.assign(t1);
  }
}
