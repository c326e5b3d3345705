package io.peftplatform.llama;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The frozen weights of one decoder layer. Shapes use D = hidden, F = intermediate, Hq / Hkv = query /
 * key-value heads, hd = head dim. Biases are null when the architecture has none.
 */
public final class LayerWeights {
  public final INDArray inputNorm; // (D)
  public final INDArray qProj; // (Hq·hd, D)
  public final INDArray kProj; // (Hkv·hd, D)
  public final INDArray vProj; // (Hkv·hd, D)
  public final INDArray oProj; // (D, Hq·hd)
  public final INDArray qBias; // (Hq·hd) or null
  public final INDArray kBias; // (Hkv·hd) or null
  public final INDArray vBias; // (Hkv·hd) or null
  public final INDArray oBias; // (D) or null
  public final INDArray postAttentionNorm; // (D)
  public final INDArray gateProj; // (F, D)
  public final INDArray upProj; // (F, D)
  public final INDArray downProj; // (D, F)
  public final INDArray gateBias; // (F) or null
  public final INDArray upBias; // (F) or null
  public final INDArray downBias; // (D) or null

  public LayerWeights(
      INDArray inputNorm,
      INDArray qProj,
      INDArray kProj,
      INDArray vProj,
      INDArray oProj,
      INDArray qBias,
      INDArray kBias,
      INDArray vBias,
      INDArray oBias,
      INDArray postAttentionNorm,
      INDArray gateProj,
      INDArray upProj,
      INDArray downProj,
      INDArray gateBias,
      INDArray upBias,
      INDArray downBias) {
    this.inputNorm = inputNorm;
    this.qProj = qProj;
    this.kProj = kProj;
    this.vProj = vProj;
    this.oProj = oProj;
    this.qBias = qBias;
    this.kBias = kBias;
    this.vBias = vBias;
    this.oBias = oBias;
    this.postAttentionNorm = postAttentionNorm;
    this.gateProj = gateProj;
    this.upProj = upProj;
    this.downProj = downProj;
    this.gateBias = gateBias;
    this.upBias = upBias;
    this.downBias = downBias;
  }

  /** The weight of a linear module by its Hugging Face name (q_proj … down_proj). */
  public INDArray weight(String module) {
    return switch (module) {
      case "q_proj" -> qProj;
      case "k_proj" -> kProj;
      case "v_proj" -> vProj;
      case "o_proj" -> oProj;
      case "gate_proj" -> gateProj;
      case "up_proj" -> upProj;
      case "down_proj" -> downProj;
      default -> throw new IllegalArgumentException("no linear module " + module);
    };
  }

  /** The bias of a linear module, or null. */
  public INDArray bias(String module) {
    return switch (module) {
      case "q_proj" -> qBias;
      case "k_proj" -> kBias;
      case "v_proj" -> vBias;
      case "o_proj" -> oBias;
      case "gate_proj" -> gateBias;
      case "up_proj" -> upBias;
      case "down_proj" -> downBias;
      default -> throw new IllegalArgumentException("no linear module " + module);
    };
  }
}
