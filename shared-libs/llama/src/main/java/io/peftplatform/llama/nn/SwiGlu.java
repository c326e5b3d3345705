package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;

/** The gated MLP activation: act = silu(gate) ⊙ up, with silu(g) = g · sigmoid(g). */
public final class SwiGlu {
  private SwiGlu() {}

  /**
   * @param act (N, F) output, the input of down_proj
   * @param gate (N, F) gate_proj output
   * @param up (N, F) up_proj output
   */
  public static void forward(INDArray act, INDArray gate, INDArray up) {
    Nd4j.exec(new Swish(gate, act));
    act.muli(up);
  }
}
