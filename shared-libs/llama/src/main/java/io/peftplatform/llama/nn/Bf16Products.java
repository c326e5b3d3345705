package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products in BF16 as PyTorch's CPU autocast computes them: BF16 operands, fp32 accumulation, a
 * BF16 result. Natively (oneDNN's BF16 kernels) where {@link NativeBuild#nativeBf16}; elsewhere through
 * fp32 BLAS on the widened operands (exact) with the result rounded — the same numbers up to the order of
 * summation. The operands and results live in per-thread scratch arrays, grown as needed outside any
 * workspace, one per {@link Slot}.
 */
final class Bf16Products {
  /** The per-thread scratch arrays: a product's BF16 operand and result, and the fallback's fp32 copies. */
  enum Slot {
    OPERAND, RESULT, WIDE_OPERAND, WIDE_WEIGHT, WIDE_RESULT
  }

  private static final ThreadLocal<INDArray[]> SCRATCH = ThreadLocal.withInitial(() -> new INDArray[Slot.values().length]);

  private Bf16Products() {}

  /**
   * c16 = a16 · op(w16), all three BF16: the product accumulated in fp32 and rounded once. Uses the
   * WIDE_* slots on machines without native BF16 products; the caller may hold OPERAND and RESULT.
   */
  static void multiply(INDArray c16, INDArray a16, INDArray w16, boolean transposeW) {
    multiply(c16, a16, w16, NativeBuild.nativeBf16() ? null : widened(Slot.WIDE_WEIGHT, w16), transposeW);
  }

  /**
   * {@link #multiply(INDArray, INDArray, INDArray, boolean)} with w16 widened to fp32 by the caller ({@code
   * w32}, which only machines without native BF16 products use: null is fine where they are native), for
   * a weight multiplied many times over.
   */
  static void multiply(INDArray c16, INDArray a16, INDArray w16, INDArray w32, boolean transposeW) {
    if (NativeBuild.nativeBf16()) {
      Ops.matmul(c16, a16, false, w16, transposeW);
      return;
    }
    INDArray c = scratch(Slot.WIDE_RESULT, DataType.FLOAT, c16.shape());
    Ops.gemm(c, widened(Slot.WIDE_OPERAND, a16), false, w32, transposeW, 1.0, 0.0);
    c16.assign(c);
  }

  /** {@code a} widened to fp32 into this thread's {@code slot} (exact). */
  static INDArray widened(Slot slot, INDArray a) {
    INDArray wide = scratch(slot, DataType.FLOAT, a.shape());
    wide.assign(a);
    return wide;
  }

  /** A dense C-order view of the shape over this thread's {@code slot}, grown (outside any workspace) when too small. */
  static INDArray scratch(Slot slot, DataType type, long... shape) {
    INDArray[] held = SCRATCH.get();
    int i = slot.ordinal();
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (held[i] == null || held[i].dataType() != type || held[i].length() < n) {
      try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        held[i] = Nd4j.createUninitialized(type, n);
      }
    }
    return Nd4j.create(held[i].data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', type);
  }
}
