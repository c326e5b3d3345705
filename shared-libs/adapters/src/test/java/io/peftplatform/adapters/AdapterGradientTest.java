package io.peftplatform.adapters;

import io.peftplatform.llama.GradientCheck;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite differences through the whole model, in fp64, for every trainable tensor of each adapter
 * method: the loss of a padded batch with a masked prompt, against the gradients forwardBackward
 * accumulates. Parameters are set away from their initial values so every path carries signal.
 */
class AdapterGradientTest {
  static LlamaConfig tinyConfig(boolean biases) {
    return new LlamaConfig(LlamaConfig.LLAMA, 13, 8, 12, 2, 4, 2, 4, 1e-5, 10000, null, 64, false,
        biases, biases, biases, 0, null, List.of(0), "float32");
  }

  static PaddedBatch batch() {
    return PaddedBatch.of(List.of(
        new TokenizedExample(new int[] {1, 5, 7, 2, 9}, new int[] {-100, -100, 7, 2, 9}),
        new TokenizedExample(new int[] {3, 11, 4}, new int[] {3, 11, 4})), 0);
  }

  @ParameterizedTest(name = "{0} rank {1} dropout {2}")
  @CsvSource({
    "LORA, 2, 0.0, false, false",
    "LORA, 2, 0.3, false, true",
    "DORA, 2, 0.0, false, false",
    "DORA, 3, 0.25, false, true",
    "NOLA, 2, 0.0, false, false",
    "NOLA, 2, 0.2, false, true",
    "KRONECKER, 1, 0.0, false, false",
    "KRONECKER, 8, 0.0, true, false",
    "KRONECKER, 1, 0.2, true, true",
  })
  void gradientsMatchFiniteDifferences(AdapterMethod method, int rank, double dropout, boolean decomposeBoth, boolean biases) {
    Nd4j.getRandom().setSeed(7);
    LlamaConfig config = tinyConfig(biases);
    LlamaWeights weights = io.peftplatform.llama.TestModels.randomize(LlamaWeights.random(config, 3, DataType.DOUBLE));
    AdapterSpec spec = AdapterSpec.defaults(method).withRank(rank).withAlpha(2.0 * rank).withDropout(dropout)
        .withNolaBases(3, 4).withKron(-1, decomposeBoth).withSeed(11);
    Adapter adapter = Adapter.create(spec, config, DataType.DOUBLE);
    LlamaModel model = adapter.attach(weights);
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(DataType.DOUBLE, values.shape()).muli(0.3));
    PaddedBatch batch = batch();
    Arena arena = new Arena(DataType.DOUBLE);
    double scale = 1.0 / batch.predictedTokens();
    adapter.training(1234);
    adapter.parameters().zeroGrads();
    model.forwardBackward(batch, scale, arena);
    // DoRA's backward treats ‖W + sBA‖ as a constant (as PEFT does); so must the finite differences.
    adapter.layers().forEach(l -> {
      if (l instanceof DoraLinear d) {
        d.holdNorm(true);
      }
    });
    long start = System.nanoTime();
    for (String name : adapter.parameters().names()) {
      GradientCheck.check(method + " " + name.replace("model.layers.", "L"), adapter.parameters().value(name),
          adapter.parameters().grad(name), () -> scale * model.loss(batch, arena).loss(), 7);
    }
    System.out.printf("%s: %d parameters checked in %.1f s%n", method, adapter.parameterCount(), (System.nanoTime() - start) / 1e9);
  }

  /**
   * A Kronecker layer multiplies a batch by the materialised W + s·(W₁ ⊗ W₂) and a single row (a generated
   * token) by the factored form; both give the same rows.
   */
  @Test
  void kroneckerGivesEachRowAloneWhatItGivesTheBatch() {
    Nd4j.getRandom().setSeed(8);
    LlamaConfig config = tinyConfig(true);
    LlamaWeights weights = io.peftplatform.llama.TestModels.randomize(LlamaWeights.random(config, 3, DataType.DOUBLE));
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.KRONECKER).withRank(1).withAlpha(2.0).withSeed(5),
        config, DataType.DOUBLE);
    adapter.attach(weights);
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(DataType.DOUBLE, values.shape()).muli(0.3));
    for (AdapterLayer layer : adapter.layers()) {
      INDArray x = Nd4j.randn(DataType.DOUBLE, 10, layer.inFeatures());
      INDArray batch = Nd4j.create(DataType.DOUBLE, 10, layer.outFeatures());
      layer.forward(batch, x);
      for (int r = 0; r < 10; r++) {
        INDArray row = Nd4j.create(DataType.DOUBLE, 1, layer.outFeatures());
        layer.forward(row, x.getRow(r).reshape(1, layer.inFeatures()).dup());
        double worst = row.sub(batch.getRow(r).reshape(1, layer.outFeatures())).amaxNumber().doubleValue();
        org.assertj.core.api.Assertions.assertThat(worst).as(layer.module() + " row " + r).isLessThan(1e-12);
      }
    }
  }
}
