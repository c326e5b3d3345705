package io.peftplatform.training.bench;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterSpec;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.bench.ForwardBenchmark;
import io.peftplatform.llama.bench.ProcessMemory;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.training.AdamW;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Times training steps — forward, backward through the frozen model into the adapter, AdamW — of an
 * adapter on a random model of a given shape with random tokens: what {@code peft bench train} reports
 * and tools/reference/bench.py measures for PyTorch.
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  public record Result(String method, long parameters, int batch, int seqLen, int steps, double secondsPerStep,
      double tokensPerSecond, long peakRssBytes, double loss) {}

  public static Result run(LlamaConfig config, AdapterSpec spec, int batch, int seqLen, int warmup, int steps, long seed) {
    Adapter adapter = Adapter.create(spec, config, DataType.FLOAT);
    LlamaModel model = adapter.attach(LlamaWeights.random(config, seed, DataType.FLOAT));
    AdamW adam = new AdamW(adapter.parameterCount(), DataType.FLOAT, 0.9, 0.999, 1e-8, 0.0);
    PaddedBatch input = ForwardBenchmark.randomTokens(config, batch, seqLen, seed);
    Arena arena = new Arena(DataType.FLOAT);
    double loss = 0;
    long start = 0;
    for (int i = 0; i < warmup + steps; i++) {
      if (i == warmup) {
        start = System.nanoTime();
      }
      adapter.parameters().zeroGrads();
      adapter.training(i);
      loss = model.forwardBackward(input, 1.0 / input.predictedTokens(), arena).mean();
      adam.step(adapter.parameters().values(), adapter.parameters().grads(), 1e-4);
    }
    double seconds = (System.nanoTime() - start) / 1e9 / steps;
    arena.release();
    return new Result(spec.method().cliName(), adapter.parameterCount(), batch, seqLen, steps, seconds,
        batch * seqLen / seconds, ProcessMemory.peakRss(), loss);
  }
}
