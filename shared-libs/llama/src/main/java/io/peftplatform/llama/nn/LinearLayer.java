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

  /** What follows a forward, for a layer whose backward reads its own output (DoRA's magnitude). */
  enum Next {
    /** No backward: inference, or the first pass of a checkpointed layer (recomputed before its backward). */
    NOTHING,
    /** {@link #backward(INDArray, INDArray, INDArray)}, given the input. */
    BACKWARD,
    /** {@link #backward(INDArray, INDArray, INDArray, INDArray)}, given the input and y as forward wrote it. */
    BACKWARD_WITH_OUTPUT
  }

  /** {@link #forward(INDArray, INDArray)}, told what follows; plain forward is as if BACKWARD followed. */
  default void forward(INDArray y, INDArray x, Next next) {
    forward(y, x);
  }

  /**
   * Accumulates dx (N, in) += ∂L/∂x given dy (N, out) = ∂L/∂y and the forward input x (N, in); an
   * adapter also accumulates the gradients of its own parameters. Frozen weights get no gradient.
   */
  void backward(INDArray dx, INDArray dy, INDArray x);

  /** {@link #backward(INDArray, INDArray, INDArray)}, given forward's output y where the caller kept it ({@link Next#BACKWARD_WITH_OUTPUT}), else null. */
  default void backward(INDArray dx, INDArray dy, INDArray x, INDArray y) {
    backward(dx, dy, x);
  }
}
