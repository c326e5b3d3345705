package io.peftplatform.llama;

import io.peftplatform.llama.config.CheckpointLayout;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.checkpoint.Presets;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode llama() {
    return Presets.get("tiny").toJson();
  }

  @Test
  void roundTripsThroughConfigJson() {
    LlamaConfig tiny = Presets.get("tiny");
    assertThat(LlamaConfig.fromJson(tiny.toJson(), null)).isEqualTo(tiny);
  }

  @Test
  void unsupportedArchitecturesAreNamedWithTheSupportedOnes() {
    ObjectNode c = llama();
    c.putArray("architectures").add("GPT2LMHeadModel");
    assertThatThrownBy(() -> LlamaConfig.fromJson(c, null))
        .isInstanceOf(ModelException.class)
        .hasMessage("config.json: architecture GPT2LMHeadModel is not supported; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM");
  }

  @Test
  void unsupportedFeaturesFailClearly() {
    ObjectNode c = llama();
    c.put("hidden_act", "gelu");
    assertThatThrownBy(() -> LlamaConfig.fromJson(c, null)).hasMessageContaining("hidden_act 'gelu' is not supported");
    ObjectNode d = llama();
    d.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
    assertThatThrownBy(() -> LlamaConfig.fromJson(d, null)).hasMessageContaining("rope_scaling type 'yarn' is not supported");
    ObjectNode e = llama();
    e.put("num_key_value_heads", 3);
    assertThatThrownBy(() -> LlamaConfig.fromJson(e, null)).hasMessageContaining("must be a multiple of num_key_value_heads (3)");
    ObjectNode f = llama();
    f.remove("hidden_size");
    assertThatThrownBy(() -> LlamaConfig.fromJson(f, null)).hasMessageContaining("'hidden_size' is missing");
  }

  @Test
  void defaultsFollowTransformers() throws Exception {
    LlamaConfig c = LlamaConfig.fromJson(JSON.readTree("""
        {"architectures": ["MistralForCausalLM"], "vocab_size": 32, "hidden_size": 16, "intermediate_size": 32,
         "num_hidden_layers": 1, "num_attention_heads": 4, "sliding_window": 4096, "eos_token_id": 2}"""),
        JSON.readTree("{\"eos_token_id\": [2, 7]}"));
    assertThat(c.numKvHeads()).isEqualTo(4);
    assertThat(c.headDim()).isEqualTo(4);
    assertThat(c.slidingWindow()).isEqualTo(4096);
    assertThat(c.eosTokenIds()).containsExactly(2, 7);
    assertThat(c.ropeTheta()).isEqualTo(10000.0);
  }

  @Test
  void countsParametersLikeTheCheckpoint() {
    // SmolLM2-135M: 134,515,008 parameters with tied embeddings.
    assertThat(Presets.get("smollm2-135m-shape").parameterCount()).isEqualTo(134_515_008L);
    LlamaConfig tiny = Presets.get("tiny");
    long fromShapes = CheckpointLayout.expectedShapes(tiny).values().stream()
        .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum();
    assertThat(tiny.parameterCount()).isEqualTo(fromShapes);
  }
}
