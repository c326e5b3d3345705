package io.peftplatform.merging.mergekit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.ModelReference;
import io.peftplatform.merging.Merger;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.TensorSource;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every mergekit method, run from its YAML as the CLI runs it, against tools/reference/mergekit_reference.py
 * (mergekit's definitions in PyTorch, fp64): each output tensor within one unit in the last place of its
 * stored type of the reference value.
 */
class GoldenModelMergeTest {
  static final Path FIXTURES = Path.of("src/test/resources/golden-mergekit");

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"linear", "task-arithmetic", "ties", "dare-ties", "dare-linear", "breadcrumbs", "breadcrumbs-ties", "della",
      "della-linear", "slerp", "slerp-parallel", "nuslerp", "nuslerp-row-wise", "nuslerp-per-row", "model-stock",
      "model-stock-filter-wise", "passthrough", "ties-slices", "task-arithmetic-folded"})
  void mergeMatchesTheReference(String name) throws Exception {
    JsonNode cases = new ObjectMapper().readTree(FIXTURES.resolve("cases.json").toFile());
    JsonNode c = cases.path("cases").path(name);
    MergeConfig config = MergeConfig.read(FIXTURES.resolve("cases").resolve(name + ".yml"));
    Path out = tmp.resolve("out");
    ModelMerge.Result result = ModelMerge.run(config, ModelReference.paths(FIXTURES.resolve("models")), cases.path("seed").asLong(), out);

    assertThat(result.layers()).isEqualTo(c.path("layers").asInt());
    JsonNode written = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertThat(written.path("num_hidden_layers").asInt()).isEqualTo(c.path("layers").asInt());
    double worst = 0;
    try (TensorSource got = Checkpoints.open(out); SafetensorsFile want = SafetensorsFile.open(FIXTURES.resolve("expected").resolve(name + ".safetensors"))) {
      assertThat(got.names()).containsExactlyElementsOf(want.names());
      for (String tensor : want.names()) {
        DType stored = got.info(tensor).dtype();
        assertThat(stored.name()).isEqualTo(switch (c.path("dtype").asText()) {
          case "bfloat16" -> "BF16";
          case "float64" -> "F64";
          default -> "F32";
        });
        int n = (int) want.info(tensor).elementCount();
        double[] w = new double[n];
        double[] g = new double[n];
        want.readDoubles(tensor, DoubleBuffer.wrap(w));
        got.readDoubles(tensor, DoubleBuffer.wrap(g));
        for (int i = 0; i < n; i++) {
          double ulp = switch (stored) {
            case F64 -> Math.ulp(w[i]) * 64;
            case BF16 -> Math.ulp((float) w[i]) * 65536;
            default -> Math.ulp((float) w[i]);
          };
          double units = Math.abs(g[i] - w[i]) / ulp;
          worst = Math.max(worst, units);
          assertThat(units).as("%s %s[%d]: got %s, want %s", name, tensor, i, g[i], w[i]).isLessThanOrEqualTo(1.0);
        }
      }
    }
    assertThat(out.resolve(Merger.RECORD)).exists();
    System.out.printf("golden mergekit %-24s %3d tensors, %d layers, worst %.2f ulp of the stored type%n", name, result.tensors(),
        result.layers(), worst);
  }

  @org.junit.jupiter.api.Test
  void stackedSlicesMayNotGrowAModelWithoutBound() {
    // 13 copies of a 3-layer model: 39 layers, over 4x
    MergeConfig config = MergeConfig.parse("merge_method: passthrough\nslices: ["
        + "{sources: [{model: a, layer_range: [0, 3]}]}, ".repeat(13) + "]\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelMerge.run(config, ModelReference.paths(FIXTURES.resolve("models")), 0,
        tmp.resolve("big"))).hasMessage("slices: 39 output layers from models of at most 3; at most 4x the largest input");
    assertThat(tmp.resolve("big")).doesNotExist();
  }
}
