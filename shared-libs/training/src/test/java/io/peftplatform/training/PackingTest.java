package io.peftplatform.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Packed rows train exactly as one example per row: in fp64 the loss and every adapter gradient of a
 * micro-batch are the same packed (examples side by side, block-diagonal causal attention, positions
 * restarting) and unpacked — the bug of packed batches whose examples see each other, or whose
 * positions run on, is what this would catch, as the naive concatenation shows.
 */
class PackingTest {
  static final LlamaConfig TINY = Presets.get("tiny");

  /** Examples of 2 to 13 tokens, prompts unlabelled in some. */
  static List<TokenizedExample> examples(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<TokenizedExample> out = new ArrayList<>();
    for (int e = 0; e < n; e++) {
      int length = 2 + rng.nextInt(12);
      int[] ids = new int[length];
      for (int t = 0; t < length; t++) {
        ids[t] = 3 + rng.nextInt(TINY.vocabSize() - 3);
      }
      int[] labels = ids.clone();
      Arrays.fill(labels, 0, rng.nextInt(length), TokenizedExample.IGNORE);
      out.add(new TokenizedExample(ids, labels));
    }
    return out;
  }

  record Pass(double loss, double[] grads) {}

  static Pass pass(AdapterMethod method, PaddedBatch batch) {
    AdapterSpec spec = AdapterSpec.defaults(method).withRank(4).withNolaBases(8, 8).withSeed(5);
    Adapter adapter = Adapter.create(spec, TINY, DataType.DOUBLE);
    LlamaModel model = adapter.attach(LlamaWeights.random(TINY, 11, DataType.DOUBLE));
    adapter.parameters().values().assign(org.nd4j.linalg.factory.Nd4j.rand(DataType.DOUBLE, adapter.parameterCount()).subi(0.5).muli(0.2));
    adapter.parameters().zeroGrads();
    Arena arena = new Arena(DataType.DOUBLE);
    double loss = model.forwardBackward(batch, 1.0, arena).loss();
    INDArray g = adapter.parameters().grads();
    return new Pass(loss, g.dup().data().asDouble());
  }

  @ParameterizedTest
  @EnumSource(AdapterMethod.class)
  void packedLossAndGradientsEqualUnpacked(AdapterMethod method) {
    List<TokenizedExample> batch = examples(9, 7);
    PaddedBatch unpacked = PaddedBatch.of(batch, 0);
    PaddedBatch packed = PaddedBatch.packed(batch, 24, 0);
    assertThat(packed.batchSize()).isLessThan(unpacked.batchSize());
    assertThat(packed.predictedTokens()).isEqualTo(unpacked.predictedTokens());
    assertThat(packed.realTokens()).isEqualTo(unpacked.realTokens());
    assertThat((long) packed.batchSize() * packed.seqLen()).isLessThan((long) unpacked.batchSize() * unpacked.seqLen());

    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    Pass a = pass(method, unpacked);
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    Pass b = pass(method, packed);
    assertThat(b.loss()).isCloseTo(a.loss(), org.assertj.core.data.Offset.offset(1e-10 * Math.abs(a.loss())));
    double scale = Arrays.stream(a.grads()).map(Math::abs).max().orElseThrow();
    assertThat(scale).isPositive();
    for (int i = 0; i < a.grads().length; i++) {
      assertThat(Math.abs(b.grads()[i] - a.grads()[i]) / scale).as("gradient %d", i).isLessThan(1e-10);
    }
  }

  @Test
  void naiveConcatenationIsNotTheSame() {
    List<TokenizedExample> batch = examples(9, 7);
    PaddedBatch packed = PaddedBatch.packed(batch, 24, 0);
    int[] oneExample = packed.attentionMask().clone();
    for (int i = 0; i < oneExample.length; i++) {
      oneExample[i] = oneExample[i] == 0 ? 0 : 1; // every row one sequence: examples see each other, positions run on
    }
    PaddedBatch naive = new PaddedBatch(packed.batchSize(), packed.seqLen(), packed.tokens(), packed.targets(), oneExample);
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    double right = pass(AdapterMethod.LORA, PaddedBatch.of(batch, 0)).loss();
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
    double wrong = pass(AdapterMethod.LORA, naive).loss();
    assertThat(Math.abs(wrong - right)).isGreaterThan(1e-3);
  }

  @Test
  void packingKeepsEveryExampleWhole() {
    List<TokenizedExample> batch = examples(30, 9);
    PaddedBatch packed = PaddedBatch.packed(batch, 20, 0);
    assertThat(packed.seqLen()).isLessThanOrEqualTo(20);
    List<String> seen = new ArrayList<>();
    for (int r = 0; r < packed.batchSize(); r++) {
      int from = r * packed.seqLen();
      int t = from;
      while (t < from + packed.seqLen() && packed.attentionMask()[t] != 0) {
        int start = t;
        while (t < from + packed.seqLen() && packed.attentionMask()[t] == packed.attentionMask()[start]) {
          t++;
        }
        seen.add(Arrays.toString(Arrays.copyOfRange(packed.tokens(), start, t)));
      }
    }
    assertThat(seen).containsExactlyInAnyOrderElementsOf(batch.stream().map(e -> Arrays.toString(e.inputIds())).toList());
  }
}
