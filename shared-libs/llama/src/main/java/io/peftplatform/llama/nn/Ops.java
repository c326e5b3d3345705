package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The few ND4J operations the layers are written in, each writing into a given output. */
public final class Ops {
  private Ops() {}

  /** c = alpha · op(a) op(b) + beta · c, for matrices. */
  public static void gemm(
      INDArray c, INDArray a, boolean transposeA, INDArray b, boolean transposeB, double alpha, double beta) {
    Nd4j.gemm(a, b, c, transposeA, transposeB, alpha, beta);
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

  /** out = x + y where y's shape equals x's shape along {@code xDims}. */
  public static void broadcastAdd(INDArray out, INDArray x, INDArray y, int... xDims) {
    Nd4j.exec(new BroadcastAddOp(x, y, out, xDims));
  }

  /**
   * Softmax over the last dimension; {@code out} may be {@code x}. ND4J 1.0.0-M2.1's native softmax
   * returns NaN in fp64 for rows whose entries are all equal (a fully masked row), so fp64 — used for
   * gradient checks, not for speed — takes the explicit max-subtract, exp, normalise route.
   */
  public static void softmaxLastDim(INDArray out, INDArray x) {
    if (x.dataType() != DataType.DOUBLE) {
      Nd4j.exec((CustomOp) new SoftMax(x, out, x.rank() - 1));
      return;
    }
    long cols = x.size(x.rank() - 1);
    INDArray x2 = x.reshape('c', x.length() / cols, cols);
    INDArray out2 = out.reshape('c', out.length() / cols, cols);
    INDArray max = x2.max(1);
    Nd4j.exec(new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp(x2, max, out2, 0));
    Transforms.exp(out2, false);
    out2.diviColumnVector(out2.sum(1));
  }
}
