package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;

/** The gated MLP activation: act = silu(gate) ⊙ up, with silu(g) = g · sigmoid(g). */
public final class SwiGlu {
  private SwiGlu() {}

  /**
   * @param act (N, F) output, the input of down_proj
   * @param sigmoid (N, F) output: sigmoid(gate), kept for backward
   * @param gate (N, F) gate_proj output
   * @param up (N, F) up_proj output
   */
  public static void forward(INDArray act, INDArray sigmoid, INDArray gate, INDArray up) {
    Nd4j.exec(new Sigmoid(gate, sigmoid));
    gate.mul(sigmoid, act);
    act.muli(up);
  }

  /**
   * dUp = dAct ⊙ silu(g); dGate = dAct ⊙ up ⊙ σ(g)·(1 + g·(1 − σ(g))). Overwrites both outputs.
   *
   * @param dGate (N, F) output
   * @param dUp (N, F) output
   * @param dAct (N, F)
   * @param gate (N, F) forward input
   * @param sig (N, F) sigmoid(gate), kept by forward
   * @param up (N, F) forward input
   */
  public static void backward(INDArray dGate, INDArray dUp, INDArray dAct, INDArray gate, INDArray sig, INDArray up, Arena arena) {
    INDArray t = arena.get("swiglu.t", gate.shape());
    gate.mul(sig, t); // silu(g)
    dAct.mul(t, dUp);
    // σ(g)·(1 + g·(1 − σ(g))) = σ + silu·(1 − σ)
    sig.rsub(1.0, dGate); // 1 − σ
    dGate.muli(t).addi(sig);
    dGate.muli(up).muli(dAct);
  }
}
