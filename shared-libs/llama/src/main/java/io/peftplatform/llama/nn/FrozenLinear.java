package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A pretrained projection whose weight and bias never change. The weight is held in the compute
 * precision, or in BF16 (half the memory) and widened to fp32 into a per-thread scratch buffer for each
 * product: fp32 products and accumulation either way, and the same numbers, since widening is exact.
 */
public final class FrozenLinear implements LinearLayer {
  /** One fp32 buffer per thread, grown to the largest BF16 weight widened on that thread. */
  private static final ThreadLocal<INDArray[]> WIDENED = ThreadLocal.withInitial(() -> new INDArray[1]);

  private final INDArray weight; // (out, in), compute precision or BF16
  private final INDArray bias; // (out), or null

  public FrozenLinear(INDArray weight, INDArray bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /** The weight in the compute precision: the held array, or an fp32 copy of a BF16 one. */
  public INDArray weight() {
    return weight.dataType() == DataType.BFLOAT16 ? weight.castTo(DataType.FLOAT) : weight;
  }

  /** The weight as held: in the compute precision or BF16 (for {@code assign}, which converts). */
  public INDArray storedWeight() {
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
    Ops.gemm(y, x, false, forProduct(), true, 1.0, 0.0);
    if (bias != null) {
      y.addiRowVector(bias);
    }
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    Ops.gemm(dx, dy, false, forProduct(), false, 1.0, 1.0); // dx += dy · W
  }

  /** The weight as a product operand: itself, or widened from BF16 into this thread's scratch. */
  private INDArray forProduct() {
    if (weight.dataType() != DataType.BFLOAT16) {
      return weight;
    }
    INDArray[] holder = WIDENED.get();
    if (holder[0] == null || holder[0].length() < weight.length()) {
      try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        holder[0] = Nd4j.createUninitialized(DataType.FLOAT, weight.length());
      }
    }
    long[] shape = weight.shape();
    INDArray widened = Nd4j.create(holder[0].data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', DataType.FLOAT);
    widened.assign(weight);
    return widened;
  }
}
