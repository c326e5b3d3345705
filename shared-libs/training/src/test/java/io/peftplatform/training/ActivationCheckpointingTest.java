package io.peftplatform.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Recomputing each block's forward in backward changes nothing: the loss and every adapter gradient are
 * bit for bit those of the pass that keeps every block's activations, dropout masks included.
 */
class ActivationCheckpointingTest {
  static final LlamaConfig TINY = Presets.get("tiny");

  static double[] gradients(AdapterMethod method, boolean recompute, double[] loss) {
    AdapterSpec spec = AdapterSpec.defaults(method).withRank(4).withDropout(0.1).withNolaBases(8, 8).withSeed(5);
    Adapter adapter = Adapter.create(spec, TINY, DataType.DOUBLE);
    LlamaModel model = adapter.attach(LlamaWeights.random(TINY, 11, DataType.DOUBLE)).activationCheckpointing(recompute);
    Nd4j.getRandom().setSeed(3);
    adapter.parameters().values().assign(Nd4j.rand(DataType.DOUBLE, adapter.parameterCount()).subi(0.5).muli(0.2));
    adapter.parameters().zeroGrads();
    adapter.training(77);
    PaddedBatch batch = PaddedBatch.packed(PackingTest.examples(6, 4), 20, 0);
    loss[0] = model.forwardBackward(batch, 1.0 / batch.predictedTokens(), new Arena(DataType.DOUBLE)).loss();
    return adapter.parameters().grads().dup().data().asDouble();
  }

  @ParameterizedTest
  @EnumSource(AdapterMethod.class)
  void recomputedBlocksGiveTheSameGradients(AdapterMethod method) {
    double[] kept = new double[1];
    double[] recomputed = new double[1];
    double[] a = gradients(method, false, kept);
    double[] b = gradients(method, true, recomputed);
    assertThat(recomputed[0]).isEqualTo(kept[0]);
    assertThat(b).containsExactly(a);
    assertThat(java.util.Arrays.stream(a).anyMatch(g -> g != 0)).as("some gradient is not zero").isTrue();
  }
}
