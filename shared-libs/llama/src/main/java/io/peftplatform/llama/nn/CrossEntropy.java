package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The language-model head and its loss: logits = hidden · Eᵀ and softmax cross-entropy against target
 * ids, computed a chunk of rows at a time so the (N, V) logits never exist at once, and only for rows
 * that have a target.
 */
public final class CrossEntropy {
  /** Ignored target (PyTorch's ignore_index). */
  public static final int IGNORE = -100;

  /** Logits held at once: 16 M values, 64 MB in fp32. */
  private static final long CHUNK_ELEMENTS = 16L << 20;

  private CrossEntropy() {}

  /** A sum of per-token losses and how many tokens it covers. */
  public record Sum(double loss, long tokens) {
    public Sum plus(Sum o) {
      return new Sum(loss + o.loss, tokens + o.tokens);
    }

    public double mean() {
      return tokens == 0 ? Double.NaN : loss / tokens;
    }
  }

  /**
   * @param hidden (N, D) final hidden states (after the final norm)
   * @param targets (N) the id each row must predict, or {@link #IGNORE}
   * @param lmHead (V, D)
   */
  public static Sum forward(INDArray hidden, int[] targets, INDArray lmHead, Arena arena) {
    int[] rows = java.util.stream.IntStream.range(0, targets.length).filter(i -> targets[i] != IGNORE).toArray();
    long vocab = lmHead.size(0);
    long d = hidden.size(1);
    int chunk = (int) Math.max(1, Math.min(rows.length, CHUNK_ELEMENTS / vocab));
    double loss = 0;
    for (int start = 0; start < rows.length; start += chunk) {
      int c = Math.min(chunk, rows.length - start);
      int[] idx = java.util.Arrays.copyOfRange(rows, start, start + c);
      INDArray selected = arena.get("ce.rows", c, d);
      Nd4j.pullRows(hidden, selected, 1, idx);
      INDArray logits = arena.get("ce.logits", c, vocab);
      Ops.gemm(logits, selected, false, lmHead, true, 1.0, 0.0);
      double[] targetLogit = new double[c];
      for (int r = 0; r < c; r++) {
        int t = targets[idx[r]];
        if (t < 0 || t >= vocab) {
          throw new IllegalArgumentException("target id " + t + " is outside the vocabulary of " + vocab);
        }
        targetLogit[r] = logits.getDouble(r, t);
      }
      INDArray max = logits.max(1);
      logits.subiColumnVector(max);
      Transforms.exp(logits, false);
      INDArray sum = logits.sum(1);
      for (int r = 0; r < c; r++) {
        loss += Math.log(sum.getDouble(r)) + max.getDouble(r) - targetLogit[r];
      }
    }
    return new Sum(loss, rows.length);
  }
}
