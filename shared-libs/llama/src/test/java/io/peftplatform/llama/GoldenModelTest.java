package io.peftplatform.llama;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.llama.generate.Generator;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Compares the engine with tools/reference/llama_reference.py, a plain PyTorch Llama computed in fp64:
 * logits at every real position, the mean loss, and a greedy continuation (which the reference computes
 * without a cache, so it also checks the key/value cache). Each case exercises a different part of the
 * format: GQA, llama3 RoPE scaling with tied embeddings and an explicit head_dim in BF16, Qwen2 biases in
 * a sharded F16 checkpoint, Llama attention_bias, Mistral's sliding window.
 */
class GoldenModelTest {
  /** fp32 against the fp64 reference, logits of magnitude ~5 after two layers. */
  static final double FP32_LOGIT_TOLERANCE = 5e-5;

  static final double FP32_LOSS_TOLERANCE = 2e-5;

  /** fp64 against fp64: only summation order differs. */
  static final double FP64_LOGIT_TOLERANCE = 1e-9;

  static final double FP64_LOSS_TOLERANCE = 1e-10;

  static Path caseDir(String name) throws URISyntaxException {
    return Path.of(GoldenModelTest.class.getResource("/golden/" + name).toURI());
  }

  @ParameterizedTest(name = "{0} in {1}")
  @CsvSource({
    "llama-gqa-f32, FLOAT",
    "llama-gqa-f32, DOUBLE",
    "llama3-rope-tied-headdim-bf16, FLOAT",
    "llama3-rope-tied-headdim-bf16, DOUBLE",
    "qwen2-bias-sharded-f16, FLOAT",
    "qwen2-bias-sharded-f16, DOUBLE",
    "llama-attention-bias-f32, FLOAT",
    "mistral-sliding-window-f32, FLOAT",
    "mistral-sliding-window-f32, DOUBLE",
  })
  void matchesThePyTorchReference(String name, DataType dataType) throws Exception {
    Path dir = caseDir(name);
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    assertThat(expected.get("fixture_version").asInt()).isEqualTo(1);
    int[][] ids = ints2(expected.get("input_ids"));
    int[][] mask = ints2(expected.get("attention_mask"));
    int[][] labels = ints2(expected.get("labels"));
    int b = ids.length;
    int t = ids[0].length;
    boolean fp64 = dataType == DataType.DOUBLE;

    LlamaModel model = ModelDirectory.loadModel(dir, dataType);
    Arena arena = new Arena(dataType);
    INDArray logits = model.logits(flatten(ids), b, t, flatten(mask), arena);
    DoubleBuffer reference = DoubleBuffer.allocate(b * t * model.config().vocabSize());
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
      f.readDoubles("logits", reference);
    }
    int vocab = model.config().vocabSize();
    double maxDiff = 0;
    for (int s = 0; s < b; s++) {
      for (int p = 0; p < t; p++) {
        if (mask[s][p] == 0) {
          continue; // padding positions are never scored
        }
        for (int v = 0; v < vocab; v++) {
          double diff = Math.abs(logits.getDouble((long) s * t + p, v) - reference.get((s * t + p) * vocab + v));
          maxDiff = Math.max(maxDiff, diff);
        }
      }
    }
    double logitTolerance = fp64 ? FP64_LOGIT_TOLERANCE : FP32_LOGIT_TOLERANCE;
    System.out.printf("%s %s: max |logit difference| %.3g (tolerance %.1g)%n", name, dataType, maxDiff, logitTolerance);
    assertThat(maxDiff).isLessThan(logitTolerance);

    List<TokenizedExample> examples = new ArrayList<>();
    for (int s = 0; s < b; s++) {
      int len = Arrays.stream(mask[s]).sum();
      examples.add(new TokenizedExample(Arrays.copyOf(ids[s], len), Arrays.copyOf(labels[s], len)));
    }
    var sum = model.loss(PaddedBatch.of(examples, 0), arena);
    double lossDiff = Math.abs(sum.mean() - expected.get("loss").asDouble());
    System.out.printf("%s %s: loss %.8f, reference %.8f, difference %.3g%n",
        name, dataType, sum.mean(), expected.get("loss").asDouble(), lossDiff);
    assertThat(lossDiff).isLessThan(fp64 ? FP64_LOSS_TOLERANCE : FP32_LOSS_TOLERANCE);

    int[] prompt = ints(expected.get("greedy_prompt"));
    int[] continuation = ints(expected.get("greedy_continuation"));
    var result = new Generator(model, Set.of()).generate(prompt, SamplingParams.greedy(continuation.length), tok -> {});
    assertThat(result.tokens()).containsExactly(continuation);
    arena.release();
  }

  static int[][] ints2(JsonNode n) {
    int[][] out = new int[n.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = ints(n.get(i));
    }
    return out;
  }

  static int[] ints(JsonNode n) {
    int[] out = new int[n.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = n.get(i).asInt();
    }
    return out;
  }

  static int[] flatten(int[][] a) {
    return Arrays.stream(a).flatMapToInt(Arrays::stream).toArray();
  }
}
