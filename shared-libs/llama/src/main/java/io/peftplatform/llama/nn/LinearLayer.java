package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A linear projection y = x·Wᵀ + b over rows of activations. The frozen base projection implements it;
 * adapters wrap it.
 */
public interface LinearLayer {
  int inFeatures();

  int outFeatures();

  /** y (N, out) = x (N, in) · Wᵀ (+ b); overwrites y. */
  void forward(INDArray y, INDArray x);
}
