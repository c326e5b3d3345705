package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where the rows of a forward pass sit: B sequences of Tq new tokens at positions offset … offset+Tq−1,
 * attending over Tk keys (Tk = Tq without a cache, offset+Tq with one).
 *
 * @param cos (B·Tq, hd/2) RoPE cosines per row
 * @param sin (B·Tq, hd/2) RoPE sines per row
 * @param negSin (B·Tq, hd/2) −sin, for the inverse rotation in backward
 * @param mask (B, Tq, Tk) additive attention mask
 */
public record Positions(int batch, int tq, int tk, int offset, INDArray cos, INDArray sin, INDArray negSin, INDArray mask) {
  public long rows() {
    return (long) batch * tq;
  }
}
