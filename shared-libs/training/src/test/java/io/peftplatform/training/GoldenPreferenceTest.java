package io.peftplatform.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.dataset.PreferencePair;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import io.peftplatform.training.spec.Objective;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * DPO, SimPO and ORPO against tools/reference/dpo_reference.py (PyTorch autograd, fp64): for LoRA and DoRA
 * adapters on a tiny base, the mean loss of three pairs of answers of different lengths, its metrics, and
 * the gradient of every adapter tensor — DPO's reference computed by the same model with the adapter
 * switched off.
 */
class GoldenPreferenceTest {
  static final double FP64_TOLERANCE = 1e-10;
  static final double FP64_GRADIENT_TOLERANCE = 1e-8; // relative to the tensor's largest gradient

  static Path golden(String name) throws Exception {
    return Path.of(GoldenPreferenceTest.class.getResource("/golden-dpo/" + name).toURI());
  }

  static TokenizedExample side(JsonNode n) {
    int[] ids = new int[n.get("input_ids").size()];
    int[] labels = new int[ids.length];
    for (int t = 0; t < ids.length; t++) {
      ids[t] = n.get("input_ids").get(t).asInt();
      labels[t] = n.get("labels").get(t).asInt();
    }
    return new TokenizedExample(ids, labels);
  }

  @ParameterizedTest
  @CsvSource({"lora, dpo", "dora, dpo", "lora, simpo", "dora, simpo", "lora, orpo", "dora, orpo"})
  void lossMetricsAndEveryGradientMatchTheReference(String name, String kind) throws Exception {
    Path dir = golden(name);
    String suffix = kind.equals("dpo") ? "" : "-" + kind;
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected" + suffix + ".json").toFile());
    Objective objective = Objective.of(Objective.Kind.parse(kind), expected.get("beta").asDouble(),
        expected.has("gamma") ? expected.get("gamma").asDouble() : null);
    LlamaConfig config = LlamaConfig.read(golden("base"));
    List<PreferencePair> pairs = new ArrayList<>();
    expected.get("pairs").forEach(p -> pairs.add(new PreferencePair(side(p.get("chosen")), side(p.get("rejected")))));

    Adapter adapter = AdapterFiles.read(dir, config, DataType.DOUBLE);
    LlamaModel model;
    try (TensorSource t = Checkpoints.open(golden("base"))) {
      model = adapter.attach(LlamaWeights.load(config, t, DataType.DOUBLE));
    }
    PreferenceObjective dpo = new PreferenceObjective(model, adapter, pairs, pairs, 0, objective, 2);
    int[] order = {0, 1, 2};
    StepObjective.MicroBatch batch = dpo.batch(order, 0, 3);
    assertThat(batch.normaliser()).isEqualTo(3);

    adapter.training(0);
    adapter.parameters().zeroGrads();
    Arena arena = new Arena(DataType.DOUBLE);
    Map<String, Double> means = dpo.forwardBackward(batch, 1.0 / batch.normaliser(), arena).means();
    System.out.printf("%s %s: loss %.12f, reference %.12f%n", name, kind, means.get("loss"), expected.get("loss").asDouble());
    assertThat(new TreeSet<>(means.keySet())).as("every metric is checked").isEqualTo(expectedKeys(expected));
    assertThat(Math.abs(means.get("loss") - expected.get("loss").asDouble())).isLessThan(FP64_TOLERANCE);
    expected.get("metrics").fields().forEachRemaining(m ->
        assertThat(Math.abs(means.get(m.getKey()) - m.getValue().asDouble())).as(m.getKey()).isLessThan(FP64_TOLERANCE));

    try (SafetensorsFile reference = SafetensorsFile.open(dir.resolve("expected" + suffix + ".safetensors"))) {
      assertThat(reference.names()).hasSize(adapter.parameters().names().size());
      double worst = 0;
      for (String tensor : adapter.parameters().names()) {
        String key = AdapterFiles.peftKey(tensor);
        INDArray grad = adapter.parameters().grad(tensor);
        DoubleBuffer want = DoubleBuffer.allocate((int) grad.length());
        reference.readDoubles(key, want);
        double[] got = grad.dup('c').data().asDouble();
        double scale = Arrays.stream(want.array()).map(Math::abs).max().orElse(0);
        assertThat(scale).as("%s has a non-zero reference gradient", key).isPositive();
        for (int i = 0; i < got.length; i++) {
          double err = Math.abs(got[i] - want.get(i)) / scale;
          worst = Math.max(worst, err);
          assertThat(err).as("%s[%d]: %g vs reference %g", key, i, got[i], want.get(i)).isLessThan(FP64_GRADIENT_TOLERANCE);
        }
      }
      System.out.printf("%s %s: %d gradients, max error %.2e of each tensor's largest%n", name, kind, adapter.parameters().names().size(), worst);
    }

    // Validation (batches of 2 pairs, adapter in inference mode) gives the same loss over the same pairs.
    adapter.inference();
    assertThat(Math.abs(dpo.validate().get("loss") - expected.get("loss").asDouble())).isLessThan(FP64_TOLERANCE);
  }

  private static Set<String> expectedKeys(JsonNode expected) {
    Set<String> keys = new TreeSet<>(Set.of("loss"));
    expected.get("metrics").fieldNames().forEachRemaining(keys::add);
    return keys;
  }
}
