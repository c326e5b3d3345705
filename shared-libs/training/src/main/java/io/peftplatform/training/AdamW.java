package io.peftplatform.training;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW (Loshchilov and Hutter) over one flat parameter buffer, as PyTorch's implementation computes it:
 * p ← p·(1 − lr·wd); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
 */
public final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final double weightDecay;
  private final INDArray m; // (P) first moment
  private final INDArray v; // (P) second moment
  private final INDArray scratch; // (P)
  private long step;

  public AdamW(long parameters, org.nd4j.linalg.api.buffer.DataType type, double beta1, double beta2, double epsilon, double weightDecay) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      this.m = Nd4j.zeros(type, Math.max(parameters, 1));
      this.v = Nd4j.zeros(type, Math.max(parameters, 1));
      this.scratch = Nd4j.zeros(type, Math.max(parameters, 1));
    }
  }

  public void step(INDArray params, INDArray grads, double lr) {
    step++;
    if (weightDecay > 0) {
      params.muli(1 - lr * weightDecay);
    }
    m.muli(beta1).addi(grads.mul(1 - beta1, scratch));
    grads.mul(grads, scratch).muli(1 - beta2);
    v.muli(beta2).addi(scratch);
    double bias1 = 1 - Math.pow(beta1, step);
    double bias2 = 1 - Math.pow(beta2, step);
    // denominator: √(v / bias2) + ε
    v.div(bias2, scratch);
    Transforms.sqrt(scratch, false).addi(epsilon);
    // p −= (lr / bias1) · m / denominator
    scratch.rdivi(m).muli(lr / bias1);
    params.subi(scratch);
  }

  public INDArray firstMoment() {
    return m;
  }

  public INDArray secondMoment() {
    return v;
  }

  public long steps() {
    return step;
  }

  /** Restores state saved from a run of the same adapter. */
  public void restore(INDArray firstMoment, INDArray secondMoment, long steps) {
    m.assign(firstMoment);
    v.assign(secondMoment);
    this.step = steps;
  }
}
