package io.peftplatform.text.dataset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Examples padded on the right to a common length, flat and row-major, ready for the model.
 *
 * @param tokens (batch, seqLen) input ids; padding positions hold {@code padId}
 * @param targets (batch, seqLen) the id to predict at each position — the next token's label — or
 *     {@link TokenizedExample#IGNORE}; the last position and padding never score
 * @param attentionMask (batch, seqLen) 0 for padding, else the number of the example the token belongs
 *     to within its row: 1 throughout an unpacked row, 1, 2, 3 … along a packed one (as Axolotl's
 *     packed batches write it). Tokens attend only within their example, whose positions start at 0.
 */
public record PaddedBatch(int batchSize, int seqLen, int[] tokens, int[] targets, int[] attentionMask) {

  /** One example per row. */
  public static PaddedBatch of(List<TokenizedExample> examples, int padId) {
    List<List<TokenizedExample>> rows = new ArrayList<>(examples.size());
    for (TokenizedExample e : examples) {
      rows.add(List.of(e));
    }
    return ofRows(rows, padId);
  }

  /**
   * The examples packed into as few rows of at most {@code rowLength} tokens as first-fit decreasing
   * finds (an example longer than that gets a row of its own). Each example is scored exactly as in
   * {@link #of}: its last token predicts nothing, and it never sees its neighbours.
   */
  public static PaddedBatch packed(List<TokenizedExample> examples, int rowLength, int padId) {
    List<TokenizedExample> longestFirst = new ArrayList<>(examples);
    longestFirst.sort(Comparator.comparingInt(TokenizedExample::length).reversed()); // stable: ties keep their order
    List<List<TokenizedExample>> rows = new ArrayList<>();
    List<Integer> fill = new ArrayList<>();
    for (TokenizedExample e : longestFirst) {
      int row = 0;
      while (row < rows.size() && fill.get(row) + e.length() > rowLength) {
        row++;
      }
      if (row == rows.size()) {
        rows.add(new ArrayList<>());
        fill.add(0);
      }
      rows.get(row).add(e);
      fill.set(row, fill.get(row) + e.length());
    }
    return ofRows(rows, padId);
  }

  private static PaddedBatch ofRows(List<List<TokenizedExample>> rows, int padId) {
    int batch = rows.size();
    int seqLen = rows.stream().mapToInt(r -> r.stream().mapToInt(TokenizedExample::length).sum()).max().orElse(0);
    int[] tokens = new int[batch * seqLen];
    int[] targets = new int[batch * seqLen];
    int[] mask = new int[batch * seqLen];
    Arrays.fill(tokens, padId);
    Arrays.fill(targets, TokenizedExample.IGNORE);
    for (int b = 0; b < batch; b++) {
      int at = b * seqLen;
      int example = 0;
      for (TokenizedExample e : rows.get(b)) {
        example++;
        System.arraycopy(e.inputIds(), 0, tokens, at, e.length());
        Arrays.fill(mask, at, at + e.length(), example);
        for (int t = 0; t + 1 < e.length(); t++) {
          targets[at + t] = e.labels()[t + 1];
        }
        at += e.length();
      }
    }
    return new PaddedBatch(batch, seqLen, tokens, targets, mask);
  }

  /** Real (not padding) tokens. */
  public long realTokens() {
    long n = 0;
    for (int m : attentionMask) {
      if (m != 0) {
        n++;
      }
    }
    return n;
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
