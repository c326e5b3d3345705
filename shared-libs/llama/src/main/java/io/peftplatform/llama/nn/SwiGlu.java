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
    forward(act, sigmoid, gate, up, Rows.simd(act, sigmoid, gate, up));
  }

  /** @param simd through {@link VectorKernels}, else ND4J's ops */
  static void forward(INDArray act, INDArray sigmoid, INDArray gate, INDArray up, boolean simd) {
    if (simd) {
      int f = (int) gate.size(gate.rank() - 1);
      Rows as = Rows.of(act);
      Rows ss = Rows.of(sigmoid);
      Rows gs = Rows.of(gate);
      Rows us = Rows.of(up);
      Rows.parallel((int) (gate.length() / f), f, (from, to) -> {
        float[] g = new float[f];
        float[] u = new float[f];
        for (int i = from; i < to; i++) {
          gs.readFloats(i * f, g, f);
          us.readFloats(i * f, u, f);
          VectorKernels.swigluForwardRow(g, u, f); // g ← σ(gate), u ← act
          ss.writeFloats(i * f, g, f);
          as.writeFloats(i * f, u, f);
        }
      });
      return;
    }
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
    backward(dGate, dUp, dAct, gate, sig, up, arena, Rows.simd(dGate, dUp, dAct, gate, sig, up));
  }

  static void backward(INDArray dGate, INDArray dUp, INDArray dAct, INDArray gate, INDArray sig, INDArray up, Arena arena, boolean simd) {
    if (simd) {
      int f = (int) gate.size(gate.rank() - 1);
      Rows dgs = Rows.of(dGate);
      Rows dus = Rows.of(dUp);
      Rows das = Rows.of(dAct);
      Rows gs = Rows.of(gate);
      Rows ss = Rows.of(sig);
      Rows us = Rows.of(up);
      Rows.parallel((int) (gate.length() / f), f, (from, to) -> {
        float[] g = new float[f];
        float[] s = new float[f];
        float[] u = new float[f];
        float[] da = new float[f];
        for (int i = from; i < to; i++) {
          gs.readFloats(i * f, g, f);
          ss.readFloats(i * f, s, f);
          us.readFloats(i * f, u, f);
          das.readFloats(i * f, da, f);
          VectorKernels.swigluBackwardRow(g, s, u, da, f); // g ← dGate, u ← dUp
          dgs.writeFloats(i * f, g, f);
          dus.writeFloats(i * f, u, f);
        }
      });
      return;
    }
    INDArray t = arena.get("swiglu.t", gate.shape());
    gate.mul(sig, t); // silu(g)
    dAct.mul(t, dUp);
    // σ(g)·(1 + g·(1 − σ(g))) = σ + silu·(1 − σ)
    sig.rsub(1.0, dGate); // 1 − σ
    dGate.muli(t).addi(sig);
    dGate.muli(up).muli(dAct);
  }
}
