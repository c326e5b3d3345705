package io.peftplatform.llama;

import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.util.List;

/** Mean next-token cross-entropy of a model over a set of examples. */
public final class Evaluator {
  private Evaluator() {}

  /** @param loss mean cross-entropy per predicted token (nats) */
  public record Result(double loss, long tokens) {
    public double perplexity() {
      return Math.exp(loss);
    }
  }

  public static Result evaluate(LlamaModel model, List<TokenizedExample> examples, int batchSize, int padId) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    Arena arena = new Arena(model.dataType());
    try {
      CrossEntropy.Sum total = new CrossEntropy.Sum(0, 0);
      for (int start = 0; start < examples.size(); start += batchSize) {
        List<TokenizedExample> slice = examples.subList(start, Math.min(examples.size(), start + batchSize));
        total = total.plus(model.loss(PaddedBatch.of(slice, padId), arena));
      }
      if (total.tokens() == 0) {
        throw new ModelException("no token to score: every example is empty or fully masked");
      }
      return new Result(total.mean(), total.tokens());
    } finally {
      arena.release();
    }
  }
}
