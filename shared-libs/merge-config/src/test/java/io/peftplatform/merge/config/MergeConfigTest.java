package io.peftplatform.merge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** mergekit's YAML read as mergekit reads it, and every malformed field refused by name. */
class MergeConfigTest {

  @Test
  void readsMergekitsExampleConfiguration() {
    MergeConfig c = MergeConfig.parse("""
        slices:
          - sources:
              - model: psmathur/orca_mini_v3_13b
                layer_range: [0, 40]
              - model: garage-bAInd/Platypus2-13B
                layer_range: [0, 40]
        merge_method: slerp
        base_model: psmathur/orca_mini_v3_13b
        parameters:
          t:
            - filter: self_attn
              value: [0, 0.5, 0.3, 0.7, 1]
            - filter: mlp
              value: [1, 0.5, 0.7, 0.3, 0]
            - value: 0.5
          int8_mask: true
        dtype: float16
        """);
    assertThat(c.method()).isEqualTo(WholeModelMethod.SLERP);
    assertThat(c.slices()).hasSize(1);
    assertThat(c.slices().get(0).baseModel()).isEqualTo("psmathur/orca_mini_v3_13b");
    assertThat(c.referencedModels()).containsExactly("psmathur/orca_mini_v3_13b", "garage-bAInd/Platypus2-13B");
    ParameterSetting t = c.parameters().get("t");
    // the gradient over layer fraction t: 5 anchors, t = 0.375 lies 1.5 anchors in
    assertThat((double) t.evaluate("model.layers.15.self_attn.q_proj.weight", 0.375)).isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-12));
    assertThat((double) t.evaluate("model.layers.15.mlp.up_proj.weight", 0.375)).isCloseTo(0.6, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(t.evaluate("model.layers.15.input_layernorm.weight", 0.375)).isEqualTo(0.5);
    assertThat(c.notes()).contains("int8_mask ignored: masks and sums are computed in fp64 here");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "models: [{model: a}]|merge_method: required",
      "merge_method: ties|models: required (or slices)",
      "merge_method: ties\\nmodels: [{model: a}]\\nslices: [{sources: [{model: a, layer_range: [0, 1]}]}]|models and slices: give one of them",
      "merge_method: karcher\\nmodels: [{model: a}]|merge_method: unknown method 'karcher'",
      "merge_method: linear\\nmodel: [{model: a}]|model: unknown key",
      "merge_method: linear\\nmodels: [{model: a, weight: 1}]|models[0].weight: unknown key (expected model, parameters)",
      "merge_method: linear\\nmodels: [{model: a, parameters: {weight: {value: 1, filtre: mlp}}}]|models[0].parameters.weight.filtre: unknown key",
      "merge_method: linear\\nmodels: [{model: a, parameters: {weight: [[1]]}}]|models[0].parameters.weight: expected a number",
      "merge_method: linear\\nmodels: [{model: a}]\\ndtype: int8|dtype: 'int8' is not one of float16, bfloat16, float32, float64",
      "merge_method: linear\\nmodels: [{model: a}]\\ntokenizer_source: union|tokenizer_source: union (a merged vocabulary) is not supported",
      "merge_method: passthrough\\nslices: [{sources: [{model: a, layer_range: [4, 2]}]}]|slices[0].sources[0].layer_range: [4, 2] is empty",
      "merge_method: passthrough\\nslices: [{sources: [{model: a, layer_range: [0, 2.5]}]}]|slices[0].sources[0].layer_range: expected [start, end]",
      "merge_method: ties\\nslices: [{sources: [{model: a, layer_range: [0, 2]}, {model: b, layer_range: [0, 3]}]}]|slices[0].sources: every source of a slice spans the same number of layers",
      "merge_method: linear\\nmodels: [{model: a}]\\nmodules: {}|modules: per-module definitions",
      "merge_method: [linear]\\nmodels: [{model: a}]|merge_method: expected text",
      "merge_method: linear\\nmodels: {model: a}|models: expected a non-empty list",
      "'merge_method: linear\\nmodels: [{model: a}'|not valid YAML",
  })
  void malformedConfigurationsNameTheField(String yaml, String message) {
    assertThatThrownBy(() -> MergeConfig.parse(yaml.replace("\\n", "\n"))).isInstanceOf(MergeConfigException.class).hasMessageContaining(message);
  }

  @Test
  void tooManyModelsOrSlicesAreRefused() {
    String many = "merge_method: linear\nmodels: [" + "{model: a}, ".repeat(33) + "]\n";
    assertThatThrownBy(() -> MergeConfig.parse(many)).hasMessage("models: 33 given; at most 32");
    String slices = "merge_method: passthrough\nslices: [" + "{sources: [{model: a, layer_range: [0, 1]}]}, ".repeat(257) + "]\n";
    assertThatThrownBy(() -> MergeConfig.parse(slices)).hasMessage("slices: 257 given; at most 256");
  }

  @Test
  void parametersAMethodDoesNotReadAreNotedNotSilentlyUsed() {
    MergeConfig c = MergeConfig.parse("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1, density: 0.5}}]\n");
    assertThat(c.notes()).containsExactly("parameter density is not read by linear; ignored");
  }
}
