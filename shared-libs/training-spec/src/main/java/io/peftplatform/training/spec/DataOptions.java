package io.peftplatform.training.spec;

/**
 * How records become model input.
 *
 * @param maxSeqLen examples (each side of a preference pair) are cut to this many tokens, and packed rows
 *     hold at most this many
 * @param trainOnInputs also score prompts and user turns (supervised only)
 * @param packing several examples to a row, each attending only to itself with positions restarting, so
 *     the loss equals the unpacked one and no compute goes to padding (supervised only)
 */
public record DataOptions(int maxSeqLen, boolean trainOnInputs, boolean packing) {
  public static final int DEFAULT_MAX_SEQ_LEN = 1024;

  public DataOptions {
    if (maxSeqLen < 2) {
      throw new IllegalArgumentException("maximum sequence length must be at least 2, got " + maxSeqLen);
    }
  }

  public static DataOptions defaults() {
    return new DataOptions(DEFAULT_MAX_SEQ_LEN, false, false);
  }
}
