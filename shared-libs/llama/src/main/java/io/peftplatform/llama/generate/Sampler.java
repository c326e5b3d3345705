package io.peftplatform.llama.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks next tokens from logits: greedy, or temperature with nucleus (top-p) filtering, seeded. */
public final class Sampler {
  private final SamplingParams params;
  private final SplittableRandom random;

  public Sampler(SamplingParams params) {
    this.params = params;
    this.random = new SplittableRandom(params.seed());
  }

  public int next(double[] logits) {
    if (params.temperature() == 0) {
      return argmax(logits);
    }
    int v = logits.length;
    double max = Arrays.stream(logits).max().orElseThrow();
    double[] probs = new double[v];
    double sum = 0;
    for (int i = 0; i < v; i++) {
      probs[i] = Math.exp((logits[i] - max) / params.temperature());
      sum += probs[i];
    }
    Integer[] order = new Integer[v];
    for (int i = 0; i < v; i++) {
      order[i] = i;
      probs[i] /= sum;
    }
    // Most probable first; ties by id so the order, and the sample, are deterministic.
    Arrays.sort(order, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : Integer.compare(a, b));
    int keep = 0;
    double cumulative = 0;
    while (keep < v && (keep == 0 || cumulative < params.topP())) {
      cumulative += probs[order[keep]];
      keep++;
    }
    double u = random.nextDouble() * cumulative;
    double acc = 0;
    for (int i = 0; i < keep; i++) {
      acc += probs[order[i]];
      if (u < acc) {
        return order[i];
      }
    }
    return order[keep - 1];
  }

  public static int argmax(double[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
