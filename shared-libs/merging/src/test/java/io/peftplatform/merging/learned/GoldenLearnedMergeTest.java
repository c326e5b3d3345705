package io.peftplatform.merging.learned;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The learned merges against tools/reference/learned_merge_reference.py (PyTorch autograd, fp64): on a
 * tiny base with a LoRA, a DoRA and a whole fine-tuned model as experts, chunked coefficients at random
 * raw values, the loss (and its parts) and ∂L/∂θ of every coefficient — Expert Merging with two aligned
 * layers, Expert Merging with a whole-model expert, and AdaMerging with some coefficients clamped.
 */
class GoldenLearnedMergeTest {
  static final double FP64_TOLERANCE = 1e-10; // relative to the loss
  static final double FP64_GRADIENT_TOLERANCE = 1e-8; // relative to the largest gradient

  static Path golden(String name) throws Exception {
    return Path.of(GoldenLearnedMergeTest.class.getResource("/golden-learned/" + name).toURI());
  }

  static LearnedMerge fromFixture(JsonNode f, DataType dataType) throws Exception {
    JsonNode s = f.get("settings");
    LearnedMergeSpec.Method method = LearnedMergeSpec.Method.byName(f.get("method").asText());
    List<Integer> hiddenLayers = new ArrayList<>();
    if (s.has("hidden_layers")) {
      s.get("hidden_layers").forEach(l -> hiddenLayers.add(l.asInt()));
    }
    List<List<TokenizedExample>> sets = new ArrayList<>();
    int largest = 0;
    for (JsonNode set : f.get("texts")) {
      List<TokenizedExample> texts = new ArrayList<>();
      for (JsonNode t : set) {
        int[] ids = IntStream.range(0, t.size()).map(i -> t.get(i).asInt()).toArray();
        texts.add(new TokenizedExample(ids, ids.clone()));
      }
      largest = Math.max(largest, texts.size());
      sets.add(texts);
    }
    LearnedMergeSpec spec = LearnedMergeSpec.of(method, 1, null, largest, null, null, null, s.get("initial_coefficient").asDouble(),
        s.has("temperature") ? s.get("temperature").asDouble() : null, hiddenLayers,
        s.has("hidden_weight") ? s.get("hidden_weight").asDouble() : null,
        s.has("regularization") ? s.get("regularization").asDouble() : null, null);
    List<LearnedMerge.ExpertInput> experts = new ArrayList<>();
    for (JsonNode e : f.get("experts")) {
      String name = e.get("name").asText();
      experts.add(new LearnedMerge.ExpertInput(name, golden(name), e.get("kind").asText().equals("model"), null, null));
    }
    LearnedMerge merge = LearnedMerge.prepareTokenized(spec, golden("base"), experts, sets, 0, dataType);
    Map<String, Integer> chunks = new LinkedHashMap<>();
    f.get("chunks").fields().forEachRemaining(c -> chunks.put(c.getKey(), c.getValue().asInt()));
    assertThat(merge.modules()).containsExactlyElementsOf(chunks.keySet());
    merge.chunking(chunks);
    double[] raw = new double[merge.coefficientCount()];
    f.get("raw").fields().forEachRemaining(m -> {
      assertThat(merge.chunks(m.getKey())).as(m.getKey()).isEqualTo(chunks.get(m.getKey()));
      for (int e = 0; e < m.getValue().size(); e++) {
        for (int c = 0; c < m.getValue().get(e).size(); c++) {
          raw[merge.rawIndex(m.getKey(), e, c)] = m.getValue().get(e).get(c).asDouble();
        }
      }
    });
    merge.setRaw(raw);
    return merge;
  }

  static List<int[]> allTexts(JsonNode f) {
    List<int[]> out = new ArrayList<>();
    f.get("texts").forEach(set -> out.add(IntStream.range(0, set.size()).toArray()));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"expert-merging", "expert-merging-whole-model", "ada-merging"})
  void lossPartsAndEveryCoefficientGradientMatchTheReference(String name) throws Exception {
    JsonNode f = new ObjectMapper().readTree(golden(name + ".json").toFile());
    LearnedMerge merge = fromFixture(f, DataType.DOUBLE);
    LearnedMerge.StepLoss loss = merge.lossAndGradient(allTexts(f), 0);
    double want = f.get("loss").asDouble();
    System.out.printf("%s: loss %.12f, reference %.12f %s%n", name, loss.loss(), want, loss.parts());
    assertThat(Math.abs(loss.loss() - want) / Math.abs(want)).isLessThan(FP64_TOLERANCE);
    f.get("parts").fields().forEachRemaining(p ->
        assertThat(Math.abs(loss.parts().get(p.getKey()) - p.getValue().asDouble()) / Math.abs(want)).as(p.getKey()).isLessThan(FP64_TOLERANCE));

    double[] gradient = merge.gradient();
    double largest = 0;
    for (JsonNode m : f.get("gradient")) {
      for (JsonNode e : m) {
        for (JsonNode c : e) {
          largest = Math.max(largest, Math.abs(c.asDouble()));
        }
      }
    }
    assertThat(largest).isPositive();
    double scale = largest;
    double[] worst = {0};
    int[] zeros = {0};
    f.get("gradient").fields().forEachRemaining(m -> {
      for (int e = 0; e < m.getValue().size(); e++) {
        for (int c = 0; c < m.getValue().get(e).size(); c++) {
          double w = m.getValue().get(e).get(c).asDouble();
          double got = gradient[merge.rawIndex(m.getKey(), e, c)];
          double err = Math.abs(got - w) / scale;
          worst[0] = Math.max(worst[0], err);
          zeros[0] += w == 0 ? 1 : 0;
          assertThat(err).as("%s expert %d chunk %d: %g vs reference %g", m.getKey(), e, c, got, w).isLessThan(FP64_GRADIENT_TOLERANCE);
        }
      }
    });
    System.out.printf("%s: %d coefficients (%d with a zero gradient), max error %.2e of the largest gradient%n", name, gradient.length,
        zeros[0], worst[0]);
  }
}
