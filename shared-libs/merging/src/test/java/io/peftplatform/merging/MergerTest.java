package io.peftplatform.merging;

import static io.peftplatform.merging.GoldenMergeTest.GOLDEN_ADAPTERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/** Merges written to disk load as models and adapters that behave as the adapters they came from. */
class MergerTest {
  static final Path BASE = GOLDEN_ADAPTERS.resolve("base");
  static final double FP32_LOSS_TOLERANCE = 2e-5;

  @TempDir Path tmp;

  static double loss(LlamaModel model) {
    PaddedBatch batch = PaddedBatch.of(List.of(
        new TokenizedExample(new int[] {5, 9, 13, 2, 7, 1, 60}, new int[] {5, 9, 13, 2, 7, 1, 60}),
        new TokenizedExample(new int[] {3, 3, 8, 40, 11}, new int[] {-100, 3, 8, 40, 11})), 0);
    return model.loss(batch, new Arena(DataType.FLOAT)).mean();
  }

  @Test
  void mergingOneAdapterIntoItsBaseGivesTheAdaptedModel() throws Exception {
    Path dora = GOLDEN_ADAPTERS.resolve("dora");
    Path out = tmp.resolve("merged");
    Merger.Result r = Merger.toModel(BASE, List.of(dora), MergeSpec.equalWeights(MergeMethod.TASK_ARITHMETIC, 1, 1, 0), out);
    assertThat(r.modules()).isEqualTo(14);

    double adapted = loss(AdaptedModel.load(BASE, dora, DataType.FLOAT));
    double merged = loss(ModelDirectory.loadModel(out, DataType.FLOAT));
    double base = loss(ModelDirectory.loadModel(BASE, DataType.FLOAT));
    assertThat(Math.abs(adapted - base)).as("the adapter changes the loss").isGreaterThan(0.01);
    assertThat(merged).as("merged %.6f, adapted %.6f", merged, adapted).isCloseTo(adapted, org.assertj.core.data.Offset.offset(FP32_LOSS_TOLERANCE));

    try (TensorSource before = Checkpoints.open(BASE); TensorSource after = Checkpoints.open(out)) {
      assertThat(after.names()).isEqualTo(before.names());
      assertThat(after.readFloats("model.embed_tokens.weight")).isEqualTo(before.readFloats("model.embed_tokens.weight"));
      assertThat(after.readFloats("model.layers.0.self_attn.q_proj.weight"))
          .isNotEqualTo(before.readFloats("model.layers.0.self_attn.q_proj.weight"));
    }
    assertThat(out.resolve("config.json")).hasSameTextualContentAs(BASE.resolve("config.json"));
    JsonNode record = new ObjectMapper().readTree(out.resolve(Merger.RECORD).toFile());
    assertThat(record.path("method").asText()).isEqualTo("task_arithmetic");
    assertThat(record.path("adapters").get(0).path("path").asText()).isEqualTo(dora.toString());
  }

  @Test
  void anSvdMergeKeepingEveryRankIsTheMergedModelAsOneLora() throws Exception {
    List<Path> adapters = List.of(GOLDEN_ADAPTERS.resolve("lora"), GOLDEN_ADAPTERS.resolve("nola"));
    MergeSpec spec = new MergeSpec(MergeMethod.TASK_ARITHMETIC, List.of(0.8, 1.2), 1, 0);
    Path model = tmp.resolve("model");
    Path lora = tmp.resolve("lora");
    Merger.toModel(BASE, adapters, spec, model);
    // LoRA rank 4 (2 on down_proj) plus NOLA rank 2: every merged ΔW has rank at most 6.
    Merger.Result r = Merger.toAdapter(BASE, adapters, spec, 6, lora, "base");
    assertThat(r.parameters()).isEqualTo(2L * 6 * (32 + 32 + 32 + 16 + 32 + 16 + 32 + 32 + 32 + 64 + 64 + 32));

    JsonNode config = new ObjectMapper().readTree(lora.resolve("adapter_config.json").toFile());
    assertThat(config.path("peft_type").asText()).isEqualTo("LORA");
    assertThat(config.path("r").asInt()).isEqualTo(6);
    assertThat(config.path("lora_alpha").asDouble()).isEqualTo(6.0);
    double asModel = loss(ModelDirectory.loadModel(model, DataType.FLOAT));
    double asLora = loss(AdaptedModel.load(BASE, lora, DataType.FLOAT));
    assertThat(asLora).as("LoRA %.6f, model %.6f", asLora, asModel).isCloseTo(asModel, org.assertj.core.data.Offset.offset(1e-4));

    // A lower rank approximates: the loss moves, but the adapter still loads and runs.
    Merger.toAdapter(BASE, adapters, spec, 1, tmp.resolve("rank1"), "base");
    assertThat(loss(AdaptedModel.load(BASE, tmp.resolve("rank1"), DataType.FLOAT))).isFinite().isNotCloseTo(asModel,
        org.assertj.core.data.Offset.offset(1e-4));
  }

  @Test
  void refusesWhatCannotBeMergedNamingTheSetting() {
    List<Path> two = List.of(GOLDEN_ADAPTERS.resolve("lora"), GOLDEN_ADAPTERS.resolve("dora"));
    assertThatThrownBy(() -> Merger.toModel(BASE, two, new MergeSpec(MergeMethod.LINEAR, List.of(1.0), 1, 0), tmp.resolve("a")))
        .hasMessage("weights: 1 given for 2 adapters");
    assertThatThrownBy(() -> new MergeSpec(MergeMethod.TIES, List.of(1.0, 1.0), 0, 0)).hasMessageStartingWith("density: must be in (0, 1]");
    assertThatThrownBy(() -> new MergeSpec(MergeMethod.LINEAR, List.of(1.0, -1.0), 1, 0)).hasMessageContaining("sum, which is 0");
    assertThatThrownBy(() -> MergeMethod.byName("slerp")).hasMessage(
        "unknown merge method 'slerp'; expected one of linear, task_arithmetic, ties, dare_linear, dare_ties");
    assertThat(MergeMethod.byName("dare-ties")).isEqualTo(MergeMethod.DARE_TIES);
    assertThatThrownBy(() -> Merger.toAdapter(BASE, two, MergeSpec.equalWeights(MergeMethod.TIES, 2, 0.5, 0), 17, tmp.resolve("b"), "base"))
        .hasMessageStartingWith("rank: must be between 1 and 16 for model.layers.0.self_attn.k_proj (16x32)");
    Path used = tmp.resolve("used");
    Merger.toModel(BASE, two.subList(0, 1), MergeSpec.equalWeights(MergeMethod.LINEAR, 1, 1, 0), used);
    assertThatThrownBy(() -> Merger.toModel(BASE, two.subList(0, 1), MergeSpec.equalWeights(MergeMethod.LINEAR, 1, 1, 0), used))
        .hasMessageContaining("already holds model.safetensors");
  }

  @Test
  void dareKeepsAboutTheDensityAndRescalesWhatItKeeps() {
    double[] tau = new double[20_000];
    java.util.Arrays.fill(tau, 1.5);
    TaskVectorMerge.dropAndRescale(tau, "model.layers.0.mlp.up_proj", 0, 42, 0.3);
    long kept = java.util.Arrays.stream(tau).filter(v -> v != 0).count();
    assertThat(kept).isBetween(5_700L, 6_300L);
    assertThat(java.util.Arrays.stream(tau).filter(v -> v != 0)).allSatisfy(v -> assertThat(v).isEqualTo(1.5 / 0.3));
    assertThat(java.util.Arrays.stream(tau).sum() / tau.length).isCloseTo(1.5, org.assertj.core.data.Offset.offset(0.05));
  }

  @Test
  void theRandomizedSvdIsAsGoodAsTheExactOneOnAFullRankUpdate() {
    // 300x200 with singular values decaying like 1/i (TIES and DARE merges are full rank, with such tails).
    org.nd4j.linalg.api.ndarray.INDArray u = LowRankFactors.orthonormalColumns(
        org.nd4j.linalg.factory.Nd4j.randn(DataType.DOUBLE, 300, 200), new io.peftplatform.adapters.SeededStream(1, "u"));
    org.nd4j.linalg.api.ndarray.INDArray v = LowRankFactors.orthonormalColumns(
        org.nd4j.linalg.factory.Nd4j.randn(DataType.DOUBLE, 200, 200), new io.peftplatform.adapters.SeededStream(2, "v"));
    assertThat(u.transpose().mmul(u).sub(org.nd4j.linalg.factory.Nd4j.eye(200).castTo(DataType.DOUBLE)).amaxNumber().doubleValue()).isLessThan(1e-12);
    double[] s = new double[200];
    for (int i = 0; i < s.length; i++) {
      s[i] = 1.0 / (i + 1);
    }
    org.nd4j.linalg.api.ndarray.INDArray m = u.mulRowVector(org.nd4j.linalg.factory.Nd4j.createFromArray(s)).mmul(v.transpose());
    int rank = 16;
    double optimal = 0; // Eckart–Young: the tail of the spectrum
    for (int i = rank; i < s.length; i++) {
      optimal += s[i] * s[i];
    }
    optimal = Math.sqrt(optimal);
    double error = m.sub(LowRankFactors.of("m", m, rank).product()).norm2Number().doubleValue();
    System.out.printf("rank-%d approximation error %.6f, optimal %.6f%n", rank, error, optimal);
    assertThat(error).isBetween(optimal * (1 - 1e-9), optimal * 1.01);
  }

  @Test
  void tiesKeepsExactlyTheLargestEntries() {
    double[] tau = {0.1, -5, 3, 0.2, -3, 4, 0, 1};
    TaskVectorMerge.keepLargest(tau, 0.5); // 4 of 8: -5, 4 and both of magnitude 3
    assertThat(tau).containsExactly(0, -5, 3, 0, -3, 4, 0, 0);
    double[] tie = {2, -2, 2, 1};
    TaskVectorMerge.keepLargest(tie, 0.5); // of three equal magnitudes the first two by index
    assertThat(tie).containsExactly(2, -2, 0, 0);
  }
}
