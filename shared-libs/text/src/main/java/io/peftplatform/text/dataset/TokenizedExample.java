package io.peftplatform.text.dataset;

/**
 * A record as token ids and, position by position, the label to learn there: the same id where the
 * token is trained on, {@link #IGNORE} where it is context only. The model at position t predicts
 * {@code labels[t + 1]}; the loss does the shift.
 */
public record TokenizedExample(int[] inputIds, int[] labels) {
  /** The label of a token that is not trained on (PyTorch's {@code ignore_index}). */
  public static final int IGNORE = -100;

  public TokenizedExample {
    if (inputIds.length != labels.length) {
      throw new IllegalArgumentException(inputIds.length + " ids but " + labels.length + " labels");
    }
  }

  public int length() {
    return inputIds.length;
  }

  /** Tokens that are predicted and scored: labelled positions after the first. */
  public int predictedTokens() {
    int n = 0;
    for (int t = 1; t < labels.length; t++) {
      if (labels[t] != IGNORE) {
        n++;
      }
    }
    return n;
  }
}
