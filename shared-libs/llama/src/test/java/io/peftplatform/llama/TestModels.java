package io.peftplatform.llama;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Helpers for tests that need models, shared with the adapter and training tests (test-jar). */
public final class TestModels {
  private TestModels() {}

  /** Random weights a long way from initialisation, so every path carries signal. */
  public static LlamaWeights randomize(LlamaWeights w) {
    for (LayerWeights l : w.layers) {
      for (INDArray a : new INDArray[] {l.qProj, l.kProj, l.vProj, l.oProj, l.gateProj, l.upProj, l.downProj}) {
        a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(0.5));
      }
      for (INDArray a : new INDArray[] {l.qBias, l.kBias, l.vBias, l.oBias, l.gateBias, l.upBias, l.downBias}) {
        if (a != null) {
          a.assign(Nd4j.randn(a.dataType(), a.shape()).muli(0.3));
        }
      }
      l.inputNorm.assign(Nd4j.randn(l.inputNorm.dataType(), l.inputNorm.shape()).muli(0.2).addi(1));
      l.postAttentionNorm.assign(Nd4j.randn(l.postAttentionNorm.dataType(), l.postAttentionNorm.shape()).muli(0.2).addi(1));
    }
    return w;
  }
}
