package io.peftplatform.llama.generate;

/**
 * How to pick each next token.
 *
 * @param temperature 0 for greedy decoding; otherwise logits are divided by it before the softmax
 * @param topP nucleus sampling: sample among the most likely tokens whose probabilities sum to at least
 *     topP (1 = all)
 * @param seed seeds the sampler, so the same request gives the same text
 * @param maxNewTokens stop after this many tokens even without an end-of-sequence token
 */
public record SamplingParams(double temperature, double topP, long seed, int maxNewTokens) {
  public SamplingParams {
    if (temperature < 0 || Double.isNaN(temperature)) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }
    if (maxNewTokens < 1) {
      throw new IllegalArgumentException("max new tokens must be at least 1, got " + maxNewTokens);
    }
  }

  public static SamplingParams greedy(int maxNewTokens) {
    return new SamplingParams(0, 1, 0, maxNewTokens);
  }
}
