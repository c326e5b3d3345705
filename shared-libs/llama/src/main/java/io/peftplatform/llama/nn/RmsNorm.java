package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
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
}
