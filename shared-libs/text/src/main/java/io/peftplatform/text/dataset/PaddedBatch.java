package io.peftplatform.text.dataset;

import java.util.Arrays;
import java.util.List;

/**
 * Examples padded on the right to a common length, flat and row-major, ready for the model.
 *
 * @param tokens (batch, seqLen) input ids; padding positions hold {@code padId}
 * @param targets (batch, seqLen) the id to predict at each position — the next token's label — or
 *     {@link TokenizedExample#IGNORE}; the last position and padding never score
 * @param attentionMask (batch, seqLen) 1 for real tokens, 0 for padding
 */
public record PaddedBatch(int batchSize, int seqLen, int[] tokens, int[] targets, int[] attentionMask) {

  public static PaddedBatch of(List<TokenizedExample> examples, int padId) {
    int batch = examples.size();
    int seqLen = examples.stream().mapToInt(TokenizedExample::length).max().orElse(0);
    int[] tokens = new int[batch * seqLen];
    int[] targets = new int[batch * seqLen];
    int[] mask = new int[batch * seqLen];
    Arrays.fill(tokens, padId);
    Arrays.fill(targets, TokenizedExample.IGNORE);
    for (int b = 0; b < batch; b++) {
      TokenizedExample e = examples.get(b);
      int row = b * seqLen;
      System.arraycopy(e.inputIds(), 0, tokens, row, e.length());
      Arrays.fill(mask, row, row + e.length(), 1);
      for (int t = 0; t + 1 < e.length(); t++) {
        targets[row + t] = e.labels()[t + 1];
      }
    }
    return new PaddedBatch(batch, seqLen, tokens, targets, mask);
  }

  /** Positions that are scored. */
  public int predictedTokens() {
    int n = 0;
    for (int t : targets) {
      if (t != TokenizedExample.IGNORE) {
        n++;
      }
    }
    return n;
  }
}
