package io.peftplatform.merging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.safetensors.SafetensorsFile;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Each merge method against tools/reference/merge_reference.py: the task vectors of the golden adapters
 * (LoRA with rank and alpha patterns, DoRA, NOLA, LoKr), merged in PyTorch from the formulas, in fp64.
 */
class GoldenMergeTest {
  /** The adapters the reference merged: written by adapters_reference.py for the adapters module's tests. */
  static final Path GOLDEN_ADAPTERS = Path.of("../adapters/src/test/resources/golden-adapters");
  static final Path GOLDEN_MERGES = Path.of("src/test/resources/golden-merges");
  /** Relative to the largest entry of the expected tensor. */
  static final double FP64_TOLERANCE = 1e-10;

  @ParameterizedTest
  @ValueSource(strings = {"linear", "task-arithmetic", "ties", "dare-linear", "dare-ties", "svd", "into-base"})
  void mergedTaskVectorsMatchTheReference(String name) throws Exception {
    JsonNode c = new ObjectMapper().readTree(GOLDEN_MERGES.resolve("cases.json").toFile()).path("cases").path(name);
    List<Path> adapters = new ArrayList<>();
    c.path("adapters").forEach(a -> adapters.add(GOLDEN_ADAPTERS.resolve(a.asText())));
    List<Double> weights = new ArrayList<>();
    c.path("weights").forEach(w -> weights.add(w.asDouble()));
    MergeSpec spec = new MergeSpec(MergeMethod.byName(c.path("method").asText()), weights, c.path("density").asDouble(1),
        c.path("seed").asLong(0));
    try (AdapterSet set = AdapterSet.load(GOLDEN_ADAPTERS.resolve("base"), adapters, DataType.DOUBLE);
        SafetensorsFile expected = SafetensorsFile.open(GOLDEN_MERGES.resolve(name + ".safetensors"))) {
      assertThat(set.modules()).containsExactlyElementsOf(expected.names());
      double worst = 0;
      for (String module : set.modules()) {
        INDArray merged = TaskVectorMerge.merge(module, set.taskVectors(module), spec);
        if (c.has("rank")) {
          merged = LowRankFactors.of(module, merged, c.path("rank").asInt()).product();
        }
        double[] want = new double[(int) merged.length()];
        expected.readDoubles(module, DoubleBuffer.wrap(want));
        double[] got = merged.dup('c').data().asDouble();
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < want.length; i++) {
          scale = Math.max(scale, Math.abs(want[i]));
          diff = Math.max(diff, Math.abs(got[i] - want[i]));
        }
        assertThat(scale).as(module).isPositive();
        worst = Math.max(worst, diff / scale);
        assertThat(diff / scale).as("%s %s: max |difference| / max |expected|", name, module).isLessThan(FP64_TOLERANCE);
      }
      System.out.printf("golden merge %-16s %2d modules, max relative difference %.2e (tolerance %.0e)%n", name,
          set.modules().size(), worst, FP64_TOLERANCE);
    }
  }
}
