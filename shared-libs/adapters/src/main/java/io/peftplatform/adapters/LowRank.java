package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The low-rank path s·B·A shared by LoRA and NOLA. */
final class LowRank {
  private LowRank() {}

  /**
   * y += s · (x·Aᵀ)·Bᵀ.
   *
   * @param ax (N, r) output, kept for backward
   * @param x (N, in) the (dropped-out) input
   * @param a (r, in)
   * @param b (out, r)
   */
  static void forward(INDArray y, INDArray ax, INDArray x, INDArray a, INDArray b, double s) {
    Ops.gemm(ax, x, false, a, true, 1.0, 0.0);
    Ops.gemm(y, ax, false, b, true, s, 1.0);
  }

  /**
   * dA += s·(dy·B)ᵀ·x; dB += s·dyᵀ·(x·Aᵀ); dx += dropout's backward of dax·A, where dax = s·dy·B — with
   * no dropout active, straight into dx (the product accumulates: no scratch, no extra pass).
   *
   * @param dA (r, in) accumulated
   * @param dB (out, r) accumulated
   * @param dx (N, in) accumulated: the gradient of the layer's input
   * @param dy (N, out)
   * @param x (N, in) the (dropped-out) input of forward
   * @param ax (N, r) kept by forward
   */
  static void backward(INDArray dA, INDArray dB, INDArray dx, INDArray dy, INDArray x, INDArray ax, INDArray a, INDArray b, double s,
      Dropout dropout, Arena arena) {
    long n = dy.size(0);
    Ops.gemm(dB, dy, true, ax, false, s, 1.0);
    INDArray dax = arena.get("lowrank.dax", n, a.size(0));
    Ops.gemm(dax, dy, false, b, false, s, 0.0);
    Ops.gemm(dA, dax, true, x, false, 1.0, 1.0);
    if (!dropout.active()) {
      Ops.gemm(dx, dax, false, a, false, 1.0, 1.0);
      return;
    }
    INDArray dxd = arena.get("lowrank.dx", n, a.size(1));
    Ops.gemm(dxd, dax, false, a, false, 1.0, 0.0);
    dropout.backwardInto(dx, dxd, arena);
  }
}
