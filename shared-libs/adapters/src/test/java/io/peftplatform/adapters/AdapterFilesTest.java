package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdapterFilesTest {
  @TempDir Path dir;
  static final LlamaConfig TINY = Presets.get("tiny");
  static final ObjectMapper JSON = new ObjectMapper();

  record Attached(Adapter adapter, LlamaModel model) {}

  static INDArray logits(LlamaModel m) {
    return m.logits(new int[] {1, 50, 7, 300, 9, 2}, 2, 3, null, new Arena(m.dataType()));
  }

  /** An adapter moved away from its (identity) initialisation. */
  static Attached trained(AdapterMethod method, LlamaWeights weights) {
    Adapter a = Adapter.create(AdapterSpec.defaults(method).withRank(4).withNolaBases(8, 8).withSeed(5), TINY, DataType.FLOAT);
    LlamaModel m = a.attach(weights);
    Nd4j.getRandom().setSeed(1);
    INDArray v = a.parameters().values();
    v.addi(Nd4j.rand(DataType.FLOAT, v.shape()).subi(0.5).muli(0.2));
    return new Attached(a, m);
  }

  @ParameterizedTest
  @EnumSource(AdapterMethod.class)
  void writtenAdaptersReadBackToTheSameModel(AdapterMethod method) throws Exception {
    LlamaWeights weights = LlamaWeights.random(TINY, 1, DataType.FLOAT);
    Attached original = trained(method, weights);
    INDArray expected = logits(original.model());
    assertThat(expected.sub(logits(new LlamaModel(TINY, weights))).amaxNumber().doubleValue())
        .as("the adapter changes the model").isGreaterThan(1e-4);

    AdapterFiles.write(original.adapter(), dir, "models/tiny");
    var config = JSON.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
    String type = switch (method) {
      case LORA, DORA -> "LORA";
      case NOLA -> "NOLA";
      case KRONECKER -> "LOKR";
    };
    assertThat(config.get("peft_type").asText()).isEqualTo(type);
    assertThat(config.get("base_model_name_or_path").asText()).isEqualTo("models/tiny");
    assertThat(config.get("target_modules")).hasSize(7);
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(AdapterFiles.WEIGHTS))) {
      assertThat(f.metadata()).containsEntry("format", "pt");
      String q = "base_model.model.model.layers.0.self_attn.q_proj.";
      switch (method) {
        case LORA -> assertThat(f.names()).contains(q + "lora_A.weight", q + "lora_B.weight");
        case DORA -> assertThat(f.names()).contains(q + "lora_A.weight", q + "lora_magnitude_vector");
        case NOLA -> assertThat(f.names()).contains(q + "nola_alpha", q + "nola_beta");
        case KRONECKER -> assertThat(f.names()).contains(q + "lokr_w1", q + "lokr_w2"); // 64 = 8x8; rank 4 is not below 8/2
      }
    }

    Adapter read = AdapterFiles.read(dir, TINY, DataType.FLOAT);
    assertThat(read.spec().method()).isEqualTo(method);
    assertThat(logits(read.attach(weights))).isEqualTo(expected);
  }

  @Test
  void nolaExportsAsAPlainLoraWithTheSameDelta() throws Exception {
    LlamaWeights weights = LlamaWeights.random(TINY, 1, DataType.FLOAT);
    Attached nola = trained(AdapterMethod.NOLA, weights);
    AdapterFiles.exportPeft(nola.adapter(), dir, "models/tiny");
    var config = JSON.readTree(dir.resolve(AdapterFiles.CONFIG).toFile());
    assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(config.has("basis_seed")).isFalse();
    Adapter lora = AdapterFiles.read(dir, TINY, DataType.FLOAT);
    assertThat(lora.spec().method()).isEqualTo(AdapterMethod.LORA);
    assertThat(lora.parameterCount()).isGreaterThan(20 * nola.adapter().parameterCount());
    double diff = logits(lora.attach(weights)).sub(logits(nola.model())).amaxNumber().doubleValue();
    assertThat(diff).isLessThan(1e-5);
  }

  @Test
  void unsupportedOrMalformedAdaptersFailClearly() throws Exception {
    LlamaWeights weights = LlamaWeights.random(TINY, 1, DataType.FLOAT);
    AdapterFiles.write(trained(AdapterMethod.LORA, weights).adapter(), dir, "base");
    Path config = dir.resolve(AdapterFiles.CONFIG);
    ObjectNode original = (ObjectNode) JSON.readTree(config.toFile());

    Files.writeString(config, original.deepCopy().put("peft_type", "IA3").toString());
    assertThatThrownBy(() -> AdapterFiles.read(dir, TINY, DataType.FLOAT))
        .isInstanceOf(AdapterException.class)
        .hasMessageContaining("peft_type 'IA3' is not supported; supported: LORA (with use_dora, use_rslora), LOKR, NOLA");

    ObjectNode withSave = original.deepCopy();
    withSave.putArray("modules_to_save").add("lm_head");
    Files.writeString(config, withSave.toString());
    assertThatThrownBy(() -> AdapterFiles.read(dir, TINY, DataType.FLOAT)).hasMessageContaining("modules_to_save");

    Files.writeString(config, original.toString());
    LlamaConfig smaller = Presets.get("tiny");
    LlamaConfig oneLayer = new LlamaConfig(smaller.architecture(), smaller.vocabSize(), smaller.hiddenSize(), smaller.intermediateSize(), 1,
        smaller.numHeads(), smaller.numKvHeads(), smaller.headDim(), 1e-5, 1e4, null, 512, false, false, false, false, 0, 0, java.util.List.of(0), "float32");
    assertThatThrownBy(() -> AdapterFiles.read(dir, oneLayer, DataType.FLOAT))
        .hasMessageContaining("names module model.layers.1.")
        .hasMessageContaining("does not have");

    new SafetensorsWriter().add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", DType.F32, new long[] {4, 10}, new float[40])
        .add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", DType.F32, new long[] {64, 4}, new float[256])
        .write(dir.resolve(AdapterFiles.WEIGHTS));
    assertThatThrownBy(() -> AdapterFiles.read(dir, TINY, DataType.FLOAT))
        .hasMessageContaining("lora_A.weight has shape [4, 10], expected [4, 64]");

    assertThatThrownBy(() -> AdapterFiles.read(dir.resolve("nothing"), TINY, DataType.FLOAT))
        .hasMessageContaining("no adapter_config.json");
  }

  @Test
  void kroneckerAndNolaTrainFarFewerParametersThanLora() {
    LlamaConfig shape = Presets.get("smollm2-135m-shape");
    long lora = Adapter.plan(AdapterSpec.defaults(AdapterMethod.LORA), shape).values().stream()
        .mapToLong(p -> (long) p.rank() * (p.in() + p.out())).sum();
    long kron = 0;
    for (ModulePlan p : Adapter.plan(AdapterSpec.defaults(AdapterMethod.KRONECKER), shape).values()) {
      kron += p.tensors(AdapterMethod.KRONECKER, 0, 0).values().stream().mapToLong(s -> s[0] * s[1]).sum();
    }
    long nola = Adapter.plan(AdapterSpec.defaults(AdapterMethod.NOLA), shape).size() * 128L;
    System.out.printf("smollm2-135m-shape all-linear: LoRA r=8 %,d, Kronecker %,d, NOLA (64+64 bases) %,d parameters%n", lora, kron, nola);
    assertThat(lora).isEqualTo(2_442_240L); // 81,408 per layer x 30
    assertThat(kron * 5).isLessThan(lora);
    assertThat(nola * 50).isLessThan(lora);
    assertThat(Map.of("q", Kronecker.factorization(576, -1)[0], "gate", Kronecker.factorization(1536, -1)[0])).containsEntry("q", 24).containsEntry("gate", 32);
  }
}
