package io.peftplatform.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LayerWeights;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.safetensors.DType;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training from a BF16 checkpoint keeps its projections BF16 in memory: half their bytes, and — widening
 * BF16 to fp32 being exact — the loss and every adapter gradient bit for bit those of the same checkpoint
 * loaded all in fp32.
 */
class Bf16WeightsTest {
  static final LlamaConfig TINY = Presets.get("tiny");

  @TempDir static Path dir;
  static Path bf16Checkpoint;
  static Path fp32Checkpoint;

  @BeforeAll
  static void checkpoints() {
    bf16Checkpoint = dir.resolve("bf16");
    fp32Checkpoint = dir.resolve("fp32");
    CheckpointWriter.writeRandom(bf16Checkpoint, TINY, 7, DType.BF16, 0);
    CheckpointWriter.writeRandom(fp32Checkpoint, TINY, 7, DType.F32, 0);
  }

  static double[] gradients(AdapterMethod method, boolean keepBf16, double[] loss) {
    AdapterSpec spec = AdapterSpec.defaults(method).withRank(4).withDropout(0.1).withNolaBases(8, 8).withSeed(5);
    Adapter adapter = Adapter.create(spec, TINY, DataType.FLOAT);
    LlamaModel model = adapter.attach(AdaptedModel.weights(bf16Checkpoint, TINY, DataType.FLOAT, keepBf16));
    Nd4j.getRandom().setSeed(3);
    adapter.parameters().values().assign(Nd4j.rand(DataType.FLOAT, adapter.parameterCount()).subi(0.5).muli(0.2));
    adapter.parameters().zeroGrads();
    adapter.training(77);
    PaddedBatch batch = PaddedBatch.packed(PackingTest.examples(6, 4), 20, 0);
    loss[0] = model.forwardBackward(batch, 1.0 / batch.predictedTokens(), new Arena(DataType.FLOAT)).loss();
    return adapter.parameters().grads().dup().data().asDouble();
  }

  @ParameterizedTest
  @EnumSource(AdapterMethod.class)
  void bf16ProjectionsGiveTheSameLossAndGradientsAsFp32(AdapterMethod method) {
    double[] fp32Loss = new double[1];
    double[] bf16Loss = new double[1];
    double[] a = gradients(method, false, fp32Loss);
    double[] b = gradients(method, true, bf16Loss);
    assertThat(bf16Loss[0]).isEqualTo(fp32Loss[0]);
    assertThat(b).containsExactly(a);
    assertThat(java.util.Arrays.stream(a).anyMatch(g -> g != 0)).as("some gradient is not zero").isTrue();
  }

  @Test
  void theProjectionsTakeHalfTheBytesAndEverythingElseStaysFp32() {
    LlamaWeights fp32 = AdaptedModel.weights(bf16Checkpoint, TINY, DataType.FLOAT, false);
    LlamaWeights kept = AdaptedModel.weights(bf16Checkpoint, TINY, DataType.FLOAT, true);
    long projectionElements = 0;
    for (LayerWeights l : kept.layers) {
      for (var w : new org.nd4j.linalg.api.ndarray.INDArray[] {l.qProj, l.kProj, l.vProj, l.oProj, l.gateProj, l.upProj, l.downProj}) {
        assertThat(w.dataType()).isEqualTo(DataType.BFLOAT16);
        projectionElements += w.length();
      }
      assertThat(l.inputNorm.dataType()).isEqualTo(DataType.FLOAT);
    }
    assertThat(kept.embedTokens.dataType()).isEqualTo(DataType.FLOAT);
    assertThat(kept.lmHead.dataType()).isEqualTo(DataType.FLOAT);
    assertThat(kept.bytes()).isEqualTo(fp32.bytes() - 2 * projectionElements);
    assertThat(projectionElements * 2).isGreaterThan(fp32.bytes() / 4); // a saving worth having even on the tiny shape
  }

  @Test
  void anFp32CheckpointIsNeverRoundedToBf16() {
    LlamaWeights w = AdaptedModel.weights(fp32Checkpoint, TINY, DataType.FLOAT, true);
    assertThat(w.layers[0].qProj.dataType()).isEqualTo(DataType.FLOAT);
  }
}
