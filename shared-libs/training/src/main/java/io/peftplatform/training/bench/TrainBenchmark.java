package io.peftplatform.training.bench;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.bench.ForwardBenchmark;
import io.peftplatform.llama.bench.ProcessMemory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Profiler;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.AdamW;
import io.peftplatform.training.spec.AdapterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Times training steps — forward, backward through the frozen model into the adapter, AdamW — of an
 * adapter on a random model of a given shape with random tokens: what {@code peft bench train} reports
 * and tools/reference/bench.py measures for PyTorch.
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  /**
   * @param rows the micro-batch's rows as run (packed rows: fewer than the examples)
   * @param tokensPerSecond real (unpadded) tokens trained on per second
   * @param flopsPerStep the step's matrix-product work as {@link #stepFlops} counts it
   * @param profile the {@link Profiler} table of the timed steps, or null when not profiled
   */
  public record Result(String method, long parameters, int rows, int seqLen, int steps, double secondsPerStep,
      double tokensPerSecond, long peakRssBytes, double loss, double flopsPerStep, String profile) {
    /** The rate of the step's matrix-product work, GFLOP/s. */
    public double gflops() {
      return flopsPerStep / secondsPerStep / 1e9;
    }
  }

  /**
   * The floating-point work of the matrix products a training step cannot avoid with a frozen base, for
   * rows × seqLen tokens: each projection and the LM head once forward and once backward (the input
   * gradient only: the base weights get none), the two attention products (scores, weighted values)
   * over every row's full seqLen² once forward and twice backward. Not counted: the adapters' own
   * products (under 2% for rank 8), element-wise work, and the forward recomputed by activation
   * checkpointing — so the rate it gives is of useful work, as model-FLOPs utilisation counts it.
   */
  public static double stepFlops(LlamaConfig c, int rows, int seqLen) {
    double tokens = (double) rows * seqLen;
    int q = c.numHeads() * c.headDim();
    int kv = c.numKvHeads() * c.headDim();
    double projectionWeights = (double) c.hiddenSize() * (q + 2 * kv) + (double) q * c.hiddenSize()
        + 3.0 * c.hiddenSize() * c.intermediateSize();
    double linear = 2 * tokens * (c.numLayers() * projectionWeights + (double) c.hiddenSize() * c.vocabSize());
    double attention = c.numLayers() * 2 * (2.0 * rows * c.numHeads() * seqLen * seqLen * c.headDim());
    return 2 * linear + 3 * attention;
  }

  /** Full rows of random tokens: batch × seqLen, no padding. */
  public static Result run(LlamaConfig config, AdapterSpec spec, int batch, int seqLen, int warmup, int steps, long seed) {
    return run(config, spec, ForwardBenchmark.randomTokens(config, batch, seqLen, seed), false, false, false, warmup, steps, seed, false);
  }

  /**
   * {@code batch} random examples of lengths drawn log-uniformly from [minLength, maxLength] — a chat
   * data set's long tail: most examples short, a few long — padded to the longest or packed into rows of
   * at most maxLength.
   */
  public static PaddedBatch shortExamples(LlamaConfig config, int batch, int minLength, int maxLength, boolean packed, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<TokenizedExample> examples = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      int length = (int) Math.round(Math.exp(Math.log(minLength) + rng.nextDouble() * (Math.log(maxLength) - Math.log(minLength))));
      int[] ids = rng.ints(Math.max(minLength, Math.min(maxLength, length)), 0, config.vocabSize()).toArray();
      examples.add(new TokenizedExample(ids, ids.clone()));
    }
    return packed ? PaddedBatch.packed(examples, maxLength, 0) : PaddedBatch.of(examples, 0);
  }

  /**
   * @param bf16Weights the projections stored in BF16, as a BF16 checkpoint's are in training
   * @param bf16Products the projections multiplied in BF16 (precision bf16; implies {@code bf16Weights})
   * @param profile time the steps' stages with {@link Profiler} (a mark costs a clock read: slightly slower)
   */
  public static Result run(LlamaConfig config, AdapterSpec spec, PaddedBatch input, boolean activationCheckpointing, boolean bf16Weights,
      boolean bf16Products, int warmup, int steps, long seed, boolean profile) {
    Adapter adapter = Adapter.create(spec, config, DataType.FLOAT);
    LlamaWeights weights = LlamaWeights.random(config, seed, DataType.FLOAT);
    LlamaModel model = adapter.attach(bf16Weights || bf16Products ? weights.withBf16Projections() : weights)
        .activationCheckpointing(activationCheckpointing).bf16Products(bf16Products);
    AdamW adam = new AdamW(adapter.parameterCount(), DataType.FLOAT, 0.9, 0.999, 1e-8, 0.0);
    Arena arena = new Arena(DataType.FLOAT);
    double loss = 0;
    long start = 0;
    for (int i = 0; i < warmup + steps; i++) {
      if (i == warmup) {
        if (profile) {
          Profiler.enable();
        }
        start = System.nanoTime();
      }
      Profiler.start();
      adapter.parameters().zeroGrads();
      adapter.training(i);
      loss = model.forwardBackward(input, 1.0 / input.predictedTokens(), arena).mean();
      adam.step(adapter.parameters().values(), adapter.parameters().grads(), 1e-4);
      Profiler.mark("adamw, zeroing, the rest");
    }
    double seconds = (System.nanoTime() - start) / 1e9 / steps;
    arena.release();
    return new Result(spec.method().cliName(), adapter.parameterCount(), input.batchSize(), input.seqLen(), steps, seconds,
        input.realTokens() / seconds, ProcessMemory.peakRss(), loss, stepFlops(config, input.batchSize(), input.seqLen()),
        profile ? Profiler.table(steps) : null);
  }
}
