package io.peftplatform.merging;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The best rank-r approximation of a matrix (Eckart–Young, by SVD) as LoRA factors with scaling 1:
 * ΔW ≈ B·A with B = U_r·diag(S_r) and A = V_rᵀ. This is how several adapters become one LoRA.
 *
 * @param a (r, in)
 * @param b (out, r)
 */
public record LowRankFactors(INDArray a, INDArray b) {
  public static LowRankFactors of(String module, INDArray delta, int rank) {
    long out = delta.size(0);
    long in = delta.size(1);
    if (rank < 1 || rank > Math.min(out, in)) {
      throw new IllegalArgumentException("rank: must be between 1 and " + Math.min(out, in) + " for " + module + " ("
          + out + "x" + in + "), got " + rank);
    }
    // libnd4j's svd wants rows >= columns: decompose ΔWᵀ when ΔW is wide and swap the factors.
    boolean wide = out < in;
    INDArray m = wide ? delta.transpose().dup('c') : delta.dup('c'); // (rows, cols), rows >= cols
    long rows = m.size(0);
    long cols = m.size(1);
    INDArray s = Nd4j.create(delta.dataType(), cols); //        (cols)        singular values, descending
    INDArray left = Nd4j.create(delta.dataType(), rows, cols); // (rows, cols)
    INDArray right = Nd4j.create(delta.dataType(), cols, cols); // (cols, cols)  m = left · diag(s) · rightᵀ
    // Its flags are integers: full matrices 0, compute U and V 1, and the size from which it switches
    // from one-sided Jacobi to divide and conquer. The latter fails in ND4J 1.0.0-M2.1 ("NDArray::assign:
    // lengths of arrays are mismatched" from 16 columns up), so the switch is never reached.
    Nd4j.exec(DynamicCustomOp.builder("svd").addInputs(m).addOutputs(s, left, right)
        .addIntegerArguments(0, 1, 1 << 20).build());
    INDArray u = wide ? right : left; // (out, k)
    INDArray v = wide ? left : right; // (in, k)
    INDArray sr = s.get(NDArrayIndex.interval(0, rank));
    INDArray b = u.get(NDArrayIndex.all(), NDArrayIndex.interval(0, rank)).mulRowVector(sr).dup('c');
    INDArray a = v.get(NDArrayIndex.all(), NDArrayIndex.interval(0, rank)).transpose().dup('c');
    return new LowRankFactors(a, b);
  }

  /** B·A (out, in). */
  public INDArray product() {
    return b.mmul(a);
  }
}
