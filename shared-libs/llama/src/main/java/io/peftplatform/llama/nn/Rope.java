package io.peftplatform.llama.nn;

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
  public static void apply(INDArray x, int heads, INDArray cos, INDArray sin) {
    int n = (int) x.size(0);
    int half = (int) cos.size(1);
    int width = heads * 2 * half;
    Rows xs = Rows.of(x);
    Rows cs = Rows.of(cos);
    Rows ss = Rows.of(sin);
    Rows.parallel(n, width, (from, to) -> {
      double[] row = new double[width];
      double[] c = new double[half];
      double[] s = new double[half];
      for (int r = from; r < to; r++) {
        xs.read(r * width, row, width);
        cs.read(r * half, c, half);
        ss.read(r * half, s, half);
        for (int h = 0; h < heads; h++) {
          int first = h * 2 * half;
          for (int i = 0; i < half; i++) {
            double x1 = row[first + i];
            double x2 = row[first + half + i];
            row[first + i] = x1 * c[i] - x2 * s[i];
            row[first + half + i] = x2 * c[i] + x1 * s[i];
          }
        }
        xs.write(r * width, row, width);
      }
    });
  }
}
