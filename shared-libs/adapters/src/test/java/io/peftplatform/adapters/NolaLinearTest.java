package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.TestModels;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * NOLA for inference: outside training, with no backward to follow (generating), a layer keeps A and B
 * between calls — only while α and β are what they were combined from: each changed in turn, in place, the
 * next output equals the one a training-mode forward (which combines afresh) gives. And the LoRA adapter
 * {@link Adapter#forInference} makes of it gives every module's output without holding the bases.
 */
class NolaLinearTest {
  @Test
  void inferenceKeepsTheFactorsOnlyWhileTheCoefficientsStay() {
    Nd4j.getRandom().setSeed(12);
    LlamaConfig config = AdapterGradientTest.tinyConfig(false);
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.NOLA).withRank(2).withSeed(5), config, DataType.FLOAT);
    adapter.attach(TestModels.randomize(LlamaWeights.random(config, 3, DataType.FLOAT)));
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(DataType.FLOAT, values.shape()).muli(0.3));
    for (AdapterLayer layer : adapter.layers()) {
      for (String changed : new String[] {"none", "nola_alpha", "nola_beta", "none"}) {
        if (!changed.equals("none")) {
          adapter.parameters().value(layer.plan().name(changed)).getScalar(1).addi(0.5);
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, layer.inFeatures());
        adapter.training(1); // no dropout: the same output, with A and B combined again
        INDArray expected = Nd4j.create(DataType.FLOAT, 2, layer.outFeatures());
        layer.forward(expected, x, LinearLayer.Next.BACKWARD);
        adapter.inference();
        INDArray y = Nd4j.create(DataType.FLOAT, 2, layer.outFeatures());
        layer.forward(y, x, LinearLayer.Next.NOTHING);
        assertThat(y).as(layer.module() + " after changing " + changed).isEqualTo(expected);
      }
    }
  }

  @Test
  void forInferenceIsTheSameAdapterAsLoraWithoutTheBases() {
    Nd4j.getRandom().setSeed(13);
    LlamaConfig config = AdapterGradientTest.tinyConfig(true);
    LlamaWeights weights = TestModels.randomize(LlamaWeights.random(config, 3, DataType.FLOAT));
    Adapter nola = Adapter.create(AdapterSpec.defaults(AdapterMethod.NOLA).withRank(2).withAlpha(3.0).withSeed(7), config,
        DataType.FLOAT);
    INDArray values = nola.parameters().values();
    values.addi(Nd4j.randn(DataType.FLOAT, values.shape()).muli(0.3));
    Adapter lora = nola.forInference();
    assertThat(lora.spec().method()).isEqualTo(AdapterMethod.LORA);
    assertThat(lora.parameterCount()).isEqualTo(nola.loraParameterCount(2));
    nola.attach(weights);
    lora.attach(weights);
    nola.inference();
    lora.inference();
    for (AdapterLayer layer : nola.layers()) {
      INDArray x = Nd4j.randn(DataType.FLOAT, 3, layer.inFeatures());
      INDArray expected = Nd4j.create(DataType.FLOAT, 3, layer.outFeatures());
      layer.forward(expected, x, LinearLayer.Next.NOTHING);
      INDArray y = Nd4j.create(DataType.FLOAT, 3, layer.outFeatures());
      lora.layer(layer.module()).forward(y, x, LinearLayer.Next.NOTHING);
      assertThat(y).as(layer.module()).isEqualTo(expected);
    }
    assertThat(Adapter.create(AdapterSpec.defaults(AdapterMethod.LORA), config, DataType.FLOAT).forInference().spec().method())
        .isEqualTo(AdapterMethod.LORA);
  }
}
