package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/** The few ND4J operations the layers are written in, each writing into a given output. */
public final class Ops {
  private Ops() {}

  /** c = alpha · op(a) op(b) + beta · c, for matrices. */
  public static void gemm(
      INDArray c, INDArray a, boolean transposeA, INDArray b, boolean transposeB, double alpha, double beta) {
    Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta);
  }

  /**
   * c = op(a) op(b) by ND4J's matmul op, for matrices of any floating type — BF16 ones too, which
   * {@link #gemm} (BLAS) refuses; all three of one type.
   */
  public static void matmul(INDArray c, INDArray a, boolean transposeA, INDArray b, boolean transposeB) {
    batchedMatmul(c, a, transposeA, b, transposeB, 1.0);
  }

  /** c[i] = alpha · op(a[i]) op(b[i]) for a batch of matrices (rank 3: batch, rows, cols). */
  public static void batchedMatmul(
      INDArray c, INDArray a, boolean transposeA, INDArray b, boolean transposeB, double alpha) {
    Nd4j.exec(
        new Mmul(
            a,
            b,
            c,
            alpha,
            0.0,
            MMulTranspose.builder().transposeA(transposeA).transposeB(transposeB).build()));
  }

  /** out = x ⊙ y where y's shape equals x's shape along {@code xDims} (broadcast over the others). */
  public static void broadcastMul(INDArray out, INDArray x, INDArray y, int... xDims) {
    Nd4j.exec(new BroadcastMulOp(x, y, out, xDims));
  }
}
