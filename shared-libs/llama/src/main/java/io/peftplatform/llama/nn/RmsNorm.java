package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.floating.Mean;
import org.nd4j.linalg.api.ops.impl.reduce.floating.SquaredNorm;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Root-mean-square layer norm: y = w ⊙ x / sqrt(mean(x²) + eps), per row. */
public final class RmsNorm {
  private RmsNorm() {}

  /**
   * @param y (N, D) output
   * @param rstd (N) output: 1 / sqrt(mean(x²) + eps), kept for backward
   * @param x (N, D)
   * @param weight (D)
   */
  public static void forward(INDArray y, INDArray rstd, INDArray x, INDArray weight, double eps) {
    long d = x.size(1);
    Nd4j.exec(new SquaredNorm(x, rstd, 1));
    rstd.divi(d).addi(eps);
    Transforms.sqrt(rstd, false).rdivi(1.0);
    Ops.broadcastMul(y, x, rstd, 0);
    y.muliRowVector(weight);
  }

  /**
   * dx += rstd ⊙ (g − x̂ ⊙ mean(g ⊙ x̂)) with g = dy ⊙ w and x̂ = x ⊙ rstd (the weight is frozen).
   *
   * @param dx (N, D) accumulated
   * @param dy (N, D)
   * @param x (N, D) forward input
   * @param rstd (N) from forward
   * @param weight (D)
   */
  public static void backward(INDArray dx, INDArray dy, INDArray x, INDArray rstd, INDArray weight, Arena arena) {
    long n = x.size(0);
    long d = x.size(1);
    INDArray g = arena.get("rmsnorm.g", n, d);
    INDArray xhat = arena.get("rmsnorm.xhat", n, d);
    INDArray t = arena.get("rmsnorm.t", n, d);
    INDArray c = arena.get("rmsnorm.c", n);
    Ops.broadcastMul(g, dy, weight, 1); // g = dy ⊙ w
    Ops.broadcastMul(xhat, x, rstd, 0); // x̂ = x ⊙ rstd
    g.mul(xhat, t);
    Nd4j.exec(new Mean(t, c, 1)); // c = mean(g ⊙ x̂)
    Ops.broadcastMul(xhat, xhat, c, 0);
    g.subi(xhat);
    Ops.broadcastMul(g, g, rstd, 0);
    dx.addi(g);
  }
}
