package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pretrained projection whose weight and bias never change. The weight is held in the compute
 * precision, or in BF16 (half the memory) and widened to fp32 into a per-thread scratch buffer for each
 * product: fp32 products and accumulation either way, and the same numbers, since widening is exact.
 *
 * <p>With {@link #bf16Products} a BF16 weight is multiplied as it is: the input rounded to BF16, the
 * product accumulated in fp32 and rounded to BF16 by ND4J's {@code matmul} (oneDNN's BF16 kernels where
 * the CPU has AVX512-BF16 or AMX), the result widened back to fp32 — what PyTorch's CPU autocast does
 * for a linear layer. About twice the fp32 product's speed there, to BF16's 8 significant bits.
 */
public final class FrozenLinear implements LinearLayer {
  private final INDArray weight; // (out, in), compute precision or BF16
  private final INDArray bias; // (out), or null
  private boolean bf16Products;

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

  /** Multiply in BF16 (see the class comment); the weight must be held in BF16. */
  public void bf16Products(boolean on) {
    if (on && weight.dataType() != DataType.BFLOAT16) {
      throw new IllegalStateException("BF16 products need the weight held in BF16, not " + weight.dataType());
    }
    this.bf16Products = on;
  }

  /** Whether products run in BF16 ({@link #bf16Products(boolean)}). */
  public boolean bf16Products() {
    return bf16Products;
  }

  @Override
  public void forward(INDArray y, INDArray x) {
    if (bf16Products) {
      bf16Product(y, x, true, false); // y = x · Wᵀ
      return;
    }
    Ops.gemm(y, x, false, forProduct(), true, 1.0, 0.0);
    if (bias != null) {
      y.addiRowVector(bias);
    }
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    if (bf16Products) {
      bf16Product(dx, dy, false, true); // dx += dy · W
      return;
    }
    Ops.gemm(dx, dy, false, forProduct(), false, 1.0, 1.0); // dx += dy · W
  }

  /** The weight as a product operand: itself, or widened from BF16 into this thread's scratch. */
  private INDArray forProduct() {
    return weight.dataType() == DataType.BFLOAT16 ? Bf16Products.widened(Bf16Products.Slot.WIDE_WEIGHT, weight) : weight;
  }

  /**
   * c = a · op(W) (or c += with {@code accumulate}) in BF16: a (rows, k) fp32 rounded to BF16, the product
   * accumulated in fp32 and rounded to BF16 ({@link Bf16Products}), then widened into c.
   */
  private void bf16Product(INDArray c, INDArray a, boolean transposeW, boolean accumulate) {
    INDArray a16 = Bf16Products.scratch(Bf16Products.Slot.OPERAND, DataType.BFLOAT16, a.shape());
    a16.assign(a);
    INDArray c16 = Bf16Products.scratch(Bf16Products.Slot.RESULT, DataType.BFLOAT16, c.shape());
    Bf16Products.multiply(c16, a16, weight, transposeW);
    if (accumulate) {
      c.addi(Bf16Products.widened(Bf16Products.Slot.WIDE_RESULT, c16));
    } else {
      c.assign(c16);
      if (bias != null) {
        c.addiRowVector(bias);
      }
    }
  }
}
