package io.peftplatform.training;

import java.util.SplittableRandom;

/**
 * The order examples are visited in: a fresh shuffle each epoch, derived from the seed and the epoch
 * alone, so a resumed run visits exactly what an uninterrupted one would.
 */
public final class DataOrder {
  private DataOrder() {}

  public static int[] permutation(int examples, long seed, int epoch) {
    int[] order = new int[examples];
    for (int i = 0; i < examples; i++) {
      order[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    for (int i = examples - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** The seed of one micro-batch's dropout masks. */
  public static long dropoutSeed(long seed, int step, int microBatch) {
    return new SplittableRandom(seed ^ (0x632BE59BD9B4E019L * (step + 1)) ^ microBatch).nextLong();
  }
}
