package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A pretrained projection whose weight and bias never change. */
public final class FrozenLinear implements LinearLayer {
  private final INDArray weight; // (out, in)
  private final INDArray bias; // (out), or null

  public FrozenLinear(INDArray weight, INDArray bias) {
    this.weight = weight;
    this.bias = bias;
  }

  public INDArray weight() {
    return weight;
  }

  public INDArray bias() {
    return bias;
  }

  @Override
  public int inFeatures() {
    return (int) weight.size(1);
  }

  @Override
  public int outFeatures() {
    return (int) weight.size(0);
  }

  @Override
  public void forward(INDArray y, INDArray x) {
    Ops.gemm(y, x, false, weight, true, 1.0, 0.0);
    if (bias != null) {
      y.addiRowVector(bias);
    }
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    Ops.gemm(dx, dy, false, weight, false, 1.0, 1.0); // dx += dy · W
  }
}
