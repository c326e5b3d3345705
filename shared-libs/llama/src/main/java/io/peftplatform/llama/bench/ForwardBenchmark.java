package io.peftplatform.llama.bench;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Times the loss forward (embedding through cross-entropy) of a random model of a given shape on
 * random tokens: the configuration {@code peft bench forward} reports and tools/reference/bench.py
 * measures for PyTorch.
 */
public final class ForwardBenchmark {
  private ForwardBenchmark() {}

  public record Result(int batch, int seqLen, int steps, double secondsPerStep, double tokensPerSecond, long peakRssBytes, double loss) {}

  /** A batch of uniformly random tokens, every position scored: the benchmarks' input. */
  public static PaddedBatch randomTokens(LlamaConfig config, int batch, int seqLen, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<TokenizedExample> examples = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      int[] ids = rng.ints(seqLen, 0, config.vocabSize()).toArray();
      examples.add(new TokenizedExample(ids, ids.clone()));
    }
    return PaddedBatch.of(examples, 0);
  }

  public static Result run(LlamaConfig config, int batch, int seqLen, int warmup, int steps, long seed) {
    LlamaModel model = new LlamaModel(config, LlamaWeights.random(config, seed, DataType.FLOAT));
    PaddedBatch input = randomTokens(config, batch, seqLen, seed);
    Arena arena = new Arena(DataType.FLOAT);
    CrossEntropy.Sum sum = null;
    for (int i = 0; i < warmup; i++) {
      sum = model.loss(input, arena);
    }
    long start = System.nanoTime();
    for (int i = 0; i < steps; i++) {
      sum = model.loss(input, arena);
    }
    double seconds = (System.nanoTime() - start) / 1e9 / steps;
    arena.release();
    return new Result(batch, seqLen, steps, seconds, batch * seqLen / seconds, ProcessMemory.peakRss(), sum.mean());
  }
}
