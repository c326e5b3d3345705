package io.peftplatform.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.Evaluator;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class TrainerTest {
  static final LlamaConfig TINY = Presets.get("tiny");
  static final LlamaWeights WEIGHTS = weights();

  /**
   * The tiny preset's random weights with the LM head scaled up: at the N(0, 0.02²) initialisation a
   * frozen head cannot produce logits peaked enough for any loss far below ln V, whatever the adapter.
   */
  static LlamaWeights weights() {
    LlamaWeights w = LlamaWeights.random(TINY, 42, DataType.FLOAT);
    w.lmHead.muli(10);
    return w;
  }

  @TempDir Path dir;

  /**
   * A learnable toy task: counting. Each example is a run of consecutive ids from a random start (mod
   * 8, shifted past the special tokens); a model must learn next = previous + 1 (a map of rank 8, which
   * a rank-8 adapter can hold), which a random model does not know (its loss is near ln 512 = 6.2).
   */
  static List<TokenizedExample> counting(int examples, int length, long seed, int stride) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<TokenizedExample> out = new ArrayList<>();
    for (int e = 0; e < examples; e++) {
      int start = rng.nextInt(8);
      int[] ids = new int[length];
      for (int t = 0; t < length; t++) {
        ids[t] = 3 + Math.floorMod(start + stride * t, 8);
      }
      out.add(new TokenizedExample(ids, ids.clone()));
    }
    return out;
  }

  static TrainingConfig quick(int steps, double lr) {
    return TrainingConfig.defaults().withSteps(1, steps).withOptimizer(lr, 2, TrainingConfig.Schedule.LINEAR, 0.0, 1.0)
        .withBatches(8, 1).withSeed(3).withMonitoring(0, 0, 0);
  }

  static AdapterSpec spec(AdapterMethod method) {
    return AdapterSpec.defaults(method).withRank(8).withAlpha(16).withNolaBases(32, 32).withSeed(9);
  }

  record Setup(Adapter adapter, LlamaModel model) {}

  static Setup attached(AdapterSpec spec) {
    Adapter adapter = Adapter.create(spec, TINY, DataType.FLOAT);
    return new Setup(adapter, adapter.attach(WEIGHTS));
  }

  @ParameterizedTest
  @EnumSource(AdapterMethod.class)
  void everyMethodLearnsTheToyTask(AdapterMethod method) {
    double lr = Double.parseDouble(System.getProperty("lr." + method, switch (method) {
      case NOLA -> "0.1";
      default -> "0.01";
    }));
    List<TokenizedExample> train = counting(64, 16, 1, 1);
    List<TokenizedExample> validation = counting(16, 16, 2, 1);
    Setup s = attached(spec(method));
    double before = Evaluator.evaluate(s.model(), validation, 8, 0).loss();
    TrainingResult r = Trainer.supervised(s.model(), s.adapter(), quick(40, lr), train, validation, 0, dir, "tiny").run();
    System.out.printf("%s: validation loss %.3f -> %.3f in %d steps, %.1f s%n", method, before, r.bestValidationLoss(), r.steps(), r.seconds());
    assertThat(r.steps()).isEqualTo(40);
    assertThat(r.bestValidationLoss()).as("%s lowers validation loss by at least 4 nats", method).isLessThan(before - 4);
    assertThat(dir.resolve(AdapterFiles.WEIGHTS)).isRegularFile();
    // The written adapter is the one that reached the best validation loss.
    Adapter written = AdapterFiles.read(dir, TINY, DataType.FLOAT);
    double reloaded = Evaluator.evaluate(written.attach(WEIGHTS), validation, 8, 0).loss();
    assertThat(reloaded).isCloseTo(r.bestValidationLoss(), org.assertj.core.data.Offset.offset(1e-4));
  }

  @Test
  void aRerunWithTheSameSeedGivesTheSameLossCurve() {
    List<TokenizedExample> train = counting(24, 12, 1, 1);
    AdapterSpec withDropout = spec(AdapterMethod.LORA).withDropout(0.1);
    Setup a = attached(withDropout);
    Trainer first = Trainer.supervised(a.model(), a.adapter(), quick(6, 0.01).withBatches(4, 2), train, List.of(), 0, dir.resolve("a"), "tiny");
    first.run();
    Setup b = attached(withDropout);
    Trainer second = Trainer.supervised(b.model(), b.adapter(), quick(6, 0.01).withBatches(4, 2), train, List.of(), 0, dir.resolve("b"), "tiny");
    second.run();
    assertThat(second.history()).isEqualTo(first.history());
    assertThat(b.adapter().parameters().values()).isEqualTo(a.adapter().parameters().values());
  }

  @Test
  void resumingFromACheckpointEndsWithTheSameAdapterAsNotStopping() throws Exception {
    List<TokenizedExample> train = counting(20, 12, 1, 1);
    List<TokenizedExample> validation = counting(8, 12, 2, 1);
    TrainingConfig config = quick(10, 0.01).withBatches(3, 2).withMonitoring(4, 3, 0); // epochs end mid-step
    AdapterSpec spec = spec(AdapterMethod.DORA).withDropout(0.1);

    Setup straight = attached(spec);
    Trainer.supervised(straight.model(), straight.adapter(), config, train, validation, 0, dir.resolve("straight"), "tiny").run();

    Setup interrupted = attached(spec);
    CancellationToken cancel = new CancellationToken();
    TrainingResult partial = Trainer.supervised(interrupted.model(), interrupted.adapter(), config, train, validation, 0, dir.resolve("resumed"), "tiny")
        .cancellation(cancel)
        .listener(p -> {
          if (p.step() == 5) {
            cancel.cancel();
          }
        })
        .run();
    assertThat(partial.stopReason()).isEqualTo("cancelled");
    assertThat(partial.steps()).isEqualTo(5);
    Path checkpoint = TrainingCheckpoint.latest(dir.resolve("resumed")).orElseThrow();
    assertThat(checkpoint.getFileName().toString()).isEqualTo("checkpoint-000004");

    Setup resumed = attached(spec); // a fresh process would start like this
    TrainingResult r = Trainer.supervised(resumed.model(), resumed.adapter(), config, train, validation, 0, dir.resolve("resumed"), "tiny").run(checkpoint);
    assertThat(r.steps()).isEqualTo(10);
    INDArray expected = AdapterFiles.read(dir.resolve("straight"), TINY, DataType.FLOAT).parameters().values();
    INDArray actual = AdapterFiles.read(dir.resolve("resumed"), TINY, DataType.FLOAT).parameters().values();
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void gradientAccumulationMatchesOneLargerBatch() {
    List<TokenizedExample> train = counting(8, 10, 5, 1);
    Setup whole = attached(spec(AdapterMethod.LORA));
    Trainer.supervised(whole.model(), whole.adapter(), quick(1, 0.01).withBatches(8, 1), train, List.of(), 0, dir.resolve("w"), "tiny").run();
    Setup split = attached(spec(AdapterMethod.LORA));
    Trainer.supervised(split.model(), split.adapter(), quick(1, 0.01).withBatches(2, 4), train, List.of(), 0, dir.resolve("s"), "tiny").run();
    // One step over the same 8 examples (the first epoch's order depends only on the seed).
    double diff = whole.adapter().parameters().values().sub(split.adapter().parameters().values()).amaxNumber().doubleValue();
    assertThat(diff).isLessThan(1e-6);
  }

  @Test
  void stopsEarlyWhenValidationStopsImprovingAndKeepsTheBestAdapter() {
    List<TokenizedExample> train = counting(64, 16, 1, 1);
    List<TokenizedExample> opposite = counting(16, 16, 2, -1); // counting down: training makes this worse
    Setup s = attached(spec(AdapterMethod.LORA));
    TrainingResult r = Trainer.supervised(s.model(), s.adapter(), quick(40, 0.01).withMonitoring(0, 2, 2), train, opposite, 0, dir, "tiny").run();
    assertThat(r.stopReason()).isEqualTo("early_stopping");
    assertThat(r.steps()).isLessThan(40);
    assertThat(r.finalValidationLoss()).isGreaterThan(r.bestValidationLoss());
    double written = Evaluator.evaluate(AdapterFiles.read(dir, TINY, DataType.FLOAT).attach(WEIGHTS), opposite, 8, 0).loss();
    assertThat(written).isCloseTo(r.bestValidationLoss(), org.assertj.core.data.Offset.offset(1e-4));
  }

  @Test
  void refusesACheckpointOfAnotherRun() {
    List<TokenizedExample> train = counting(8, 8, 1, 1);
    Setup a = attached(spec(AdapterMethod.LORA));
    Trainer.supervised(a.model(), a.adapter(), quick(2, 0.01).withMonitoring(1, 0, 0), train, List.of(), 0, dir, "tiny").run();
    Path checkpoint = TrainingCheckpoint.latest(dir).orElseThrow();
    Setup b = attached(spec(AdapterMethod.LORA).withRank(4));
    assertThatThrownBy(() -> Trainer.supervised(b.model(), b.adapter(), quick(2, 0.01), train, List.of(), 0, dir.resolve("x"), "tiny").run(checkpoint))
        .isInstanceOf(TrainingException.class)
        .hasMessageContaining("checkpoint of a different run");
    assertThat(Files.exists(checkpoint.resolveSibling(checkpoint.getFileName() + ".tmp"))).isFalse();
  }

  @Test
  void scheduleFollowsTransformers() {
    TrainingConfig c = TrainingConfig.defaults().withOptimizer(1.0, 2, TrainingConfig.Schedule.LINEAR, 0, 1);
    assertThat(c.learningRate(0, 10)).isEqualTo(0.0);
    assertThat(c.learningRate(1, 10)).isEqualTo(0.5);
    assertThat(c.learningRate(2, 10)).isEqualTo(1.0);
    assertThat(c.learningRate(6, 10)).isEqualTo(0.5);
    TrainingConfig cos = c.withOptimizer(1.0, 0, TrainingConfig.Schedule.COSINE, 0, 1);
    assertThat(cos.learningRate(5, 10)).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(TrainingConfig.defaults().withSteps(2, 0).withBatches(3, 2).totalSteps(10)).isEqualTo(4); // 4 batches -> 2 steps/epoch
  }
}
