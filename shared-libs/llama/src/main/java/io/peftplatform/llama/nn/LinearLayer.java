package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A linear projection y = x·Wᵀ + b over rows of activations. The frozen base projection implements it;
 * adapters wrap it and add their own trainable path.
 */
public interface LinearLayer {
  int inFeatures();

  int outFeatures();

  /** y (N, out) = x (N, in) · Wᵀ (+ b) (+ the adapter's path); overwrites y. */
  void forward(INDArray y, INDArray x);

  /**
   * Accumulates dx (N, in) += ∂L/∂x given dy (N, out) = ∂L/∂y and the forward input x (N, in); an
   * adapter also accumulates the gradients of its own parameters. Frozen weights get no gradient.
   */
  void backward(INDArray dx, INDArray dy, INDArray x);
}
