package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Adapter files written by tools/reference/adapters_reference.py in PEFT's format (LoRA with rank and
 * alpha patterns, rsLoRA, DoRA, native NOLA, LoKr whole and decomposed) load here and give the reference
 * loss and, for every adapter tensor, the reference gradient (PyTorch autograd in fp64).
 */
class GoldenAdapterTest {
  static final double FP64_LOSS_TOLERANCE = 1e-10;
  static final double FP64_GRADIENT_TOLERANCE = 1e-8; // relative to the tensor's largest gradient
  static final double FP32_LOSS_TOLERANCE = 2e-5;

  static Path golden(String name) throws Exception {
    return Path.of(GoldenAdapterTest.class.getResource("/golden-adapters/" + name).toURI());
  }

  static LlamaWeights baseWeights(LlamaConfig config, DataType type) throws Exception {
    try (TensorSource t = Checkpoints.open(golden("base"))) {
      return LlamaWeights.load(config, t, type);
    }
  }

  static PaddedBatch batch(JsonNode expected) {
    List<TokenizedExample> examples = new ArrayList<>();
    for (int s = 0; s < expected.get("input_ids").size(); s++) {
      int len = 0;
      for (JsonNode m : expected.get("attention_mask").get(s)) {
        len += m.asInt();
      }
      int[] ids = new int[len];
      int[] labels = new int[len];
      for (int t = 0; t < len; t++) {
        ids[t] = expected.get("input_ids").get(s).get(t).asInt();
        labels[t] = expected.get("labels").get(s).get(t).asInt();
      }
      examples.add(new TokenizedExample(ids, labels));
    }
    return PaddedBatch.of(examples, 0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora", "rslora", "dora", "nola", "lokr", "lokr-decomposed"})
  void lossAndEveryGradientMatchTheReference(String name) throws Exception {
    Path dir = golden(name);
    JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
    LlamaConfig config = LlamaConfig.read(golden("base"));
    PaddedBatch batch = batch(expected);
    int tokens = batch.predictedTokens();

    Adapter adapter = AdapterFiles.read(dir, config, DataType.DOUBLE);
    LlamaModel model = adapter.attach(baseWeights(config, DataType.DOUBLE));
    Arena arena = new Arena(DataType.DOUBLE);
    double loss = model.loss(batch, arena).mean();
    System.out.printf("%s: loss %.12f, reference %.12f%n", name, loss, expected.get("loss").asDouble());
    assertThat(Math.abs(loss - expected.get("loss").asDouble())).isLessThan(FP64_LOSS_TOLERANCE);

    adapter.training(0);
    adapter.parameters().zeroGrads();
    model.forwardBackward(batch, 1.0 / tokens, arena);
    try (SafetensorsFile reference = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
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
      System.out.printf("%s: %d gradients, max error %.2e of each tensor's largest%n", name, adapter.parameters().names().size(), worst);
    }

    Adapter single = AdapterFiles.read(dir, config, DataType.FLOAT);
    double fp32 = single.attach(baseWeights(config, DataType.FLOAT)).loss(batch, new Arena(DataType.FLOAT)).mean();
    assertThat(Math.abs(fp32 - expected.get("loss").asDouble())).isLessThan(FP32_LOSS_TOLERANCE);
  }

  @Test
  void nolaBasesAreBitForBitThoseOfTheReferenceGenerator() throws Exception {
    float[] reference;
    try (SafetensorsFile f = SafetensorsFile.open(golden("nola-basis.safetensors"))) {
      reference = f.readFloats("a0");
      assertThat(f.metadata()).containsEntry("basis_seed", "12345");
    }
    float[] ours = new float[reference.length];
    new NolaBasis(12345, "model.layers.0.self_attn.q_proj").fill(ours, 32);
    for (int i = 0; i < ours.length; i++) {
      assertThat(Float.floatToRawIntBits(ours[i])).as("element %d", i).isEqualTo(Float.floatToRawIntBits(reference[i]));
    }
  }
}
