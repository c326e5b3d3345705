package io.peftplatform.llama.generate;

import io.peftplatform.llama.KvCache;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.nn.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Autoregressive generation with a key/value cache: the prompt is fed once, then one token per step,
 * until an end-of-sequence id or the token budget.
 */
public final class Generator {
  private final LlamaModel model;
  private final Set<Integer> stopIds;

  public Generator(LlamaModel model, Set<Integer> stopIds) {
    this.model = model;
    this.stopIds = Set.copyOf(stopIds);
  }

  /** What generation produced and why it stopped. */
  public record Result(int[] tokens, String finishReason) {
    public static final String STOP = "stop";
    public static final String LENGTH = "length";
  }

  /** Sees each new token as it is chosen; answers false to end generation there (finish reason "stop"). */
  @FunctionalInterface
  public interface TokenListener {
    boolean next(int token);
  }

  /**
   * @param onToken called with each new token as it is chosen (the stop token included)
   */
  public Result generate(int[] prompt, SamplingParams params, IntConsumer onToken) {
    return generate(prompt, params, (TokenListener) t -> {
      onToken.accept(t);
      return true;
    });
  }

  /** As {@link #generate(int[], SamplingParams, IntConsumer)}, with a listener that may end it early. */
  public Result generate(int[] prompt, SamplingParams params, TokenListener listener) {
    if (prompt.length == 0) {
      throw new ModelException("the prompt encodes to no tokens");
    }
    int capacity = prompt.length + params.maxNewTokens();
    int limit = model.config().maxPositionEmbeddings();
    if (prompt.length >= limit) {
      throw new ModelException("the prompt has " + prompt.length + " tokens; the model's context is " + limit);
    }
    capacity = Math.min(capacity, limit);
    KvCache cache = new KvCache(model.config(), capacity, model.dataType());
    Arena arena = new Arena(model.dataType());
    try {
      Sampler sampler = new Sampler(params);
      List<Integer> out = new ArrayList<>();
      double[] logits = model.nextTokenLogits(prompt, cache, arena);
      while (true) {
        int next = sampler.next(logits);
        out.add(next);
        boolean more = listener.next(next);
        if (stopIds.contains(next) || !more) {
          return new Result(toArray(out), Result.STOP);
        }
        if (out.size() >= params.maxNewTokens() || cache.length() >= capacity) {
          return new Result(toArray(out), Result.LENGTH);
        }
        logits = model.nextTokenLogits(new int[] {next}, cache, arena);
      }
    } finally {
      arena.release();
      cache.release();
    }
  }

  private static int[] toArray(List<Integer> l) {
    return l.stream().mapToInt(Integer::intValue).toArray();
  }
}
