package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
  /** One fp32 buffer per thread, grown to the largest BF16 weight widened on that thread. */
  private static final ThreadLocal<INDArray[]> WIDENED = ThreadLocal.withInitial(() -> new INDArray[1]);
  /** Per thread: a BF16 product's BF16 input, BF16 result, fp32 result and fp32 rounded input; grown as needed. */
  private static final ThreadLocal<INDArray[]> BF16_SCRATCH = ThreadLocal.withInitial(() -> new INDArray[4]);

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

  /**
   * c = a · op(W) (or c += with {@code accumulate}) in BF16: a (rows, k) fp32 rounded to BF16, the product
   * accumulated in fp32 and rounded to BF16, then widened into c. Natively (oneDNN's BF16 kernels) where
   * {@link NativeBuild#nativeBf16}; elsewhere the same product through fp32 BLAS on the rounded input
   * and the widened weight (exact), its result rounded — the same numbers up to the order of summation.
   */
  private void bf16Product(INDArray c, INDArray a, boolean transposeW, boolean accumulate) {
    INDArray[] s = BF16_SCRATCH.get();
    INDArray a16 = scratch(s, 0, DataType.BFLOAT16, a.shape());
    a16.assign(a);
    INDArray c16 = scratch(s, 1, DataType.BFLOAT16, c.shape());
    if (NativeBuild.nativeBf16()) {
      Ops.matmul(c16, a16, false, weight, transposeW);
    } else {
      INDArray rounded = scratch(s, 3, DataType.FLOAT, a.shape());
      rounded.assign(a16);
      INDArray product = scratch(s, 2, DataType.FLOAT, c.shape());
      Ops.gemm(product, rounded, false, forProduct(), transposeW, 1.0, 0.0);
      c16.assign(product);
    }
    if (accumulate) {
      INDArray widened = scratch(s, 2, DataType.FLOAT, c.shape());
      widened.assign(c16);
      c.addi(widened);
    } else {
      c.assign(c16);
      if (bias != null) {
        c.addiRowVector(bias);
      }
    }
  }

  /** A view of the shape over this thread's scratch buffer {@code i}, grown (outside any workspace) when too small. */
  private static INDArray scratch(INDArray[] holder, int i, DataType type, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (holder[i] == null || holder[i].length() < n) {
      try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        holder[i] = Nd4j.createUninitialized(type, n);
      }
    }
    return Nd4j.create(holder[i].data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', type);
  }
}
