package io.peftplatform.llama.config;

import java.util.List;

/** Tensor names of the Hugging Face Llama layout, built from a per-layer prefix. */
public final class WeightNames {
  public static final String EMBED_TOKENS = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  /** The linear modules of a decoder layer, in forward order, by their Hugging Face names. */
  public static final List<String> LINEAR_MODULES =
      List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

  private WeightNames() {}

  public static String layerPrefix(int layer) {
    return "model.layers." + layer + ".";
  }

  /** The module path of a linear layer: {@code model.layers.N.self_attn.q_proj} or {@code ….mlp.up_proj}. */
  public static String linearModule(int layer, String module) {
    String block = module.endsWith("_proj") && (module.startsWith("gate") || module.startsWith("up") || module.startsWith("down"))
        ? "mlp." : "self_attn.";
    return layerPrefix(layer) + block + module;
  }

  public static String inputNorm(int layer) {
    return layerPrefix(layer) + "input_layernorm.weight";
  }

  public static String postAttentionNorm(int layer) {
    return layerPrefix(layer) + "post_attention_layernorm.weight";
  }
}
