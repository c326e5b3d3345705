package io.peftplatform.adapters;

import java.nio.charset.StandardCharsets;

/**
 * A reproducible random stream named by a seed and a string (docs/nola.md, "The basis generator"):
 * SplitMix64 started from {@code seed XOR FNV-1a-64(UTF-8 bytes of the name)}. NOLA's bases and DARE's
 * drop masks both draw from it, so another implementation can regenerate them bit for bit.
 */
public final class SeededStream {
  private long state;

  public SeededStream(long seed, String name) {
    this.state = seed ^ fnv1a64(name.getBytes(StandardCharsets.UTF_8));
  }

  static long fnv1a64(byte[] bytes) {
    long h = 0xcbf29ce484222325L;
    for (byte b : bytes) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** The next SplitMix64 output. */
  public long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    long z = state;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The next uniform value on [0, 1) with 24 random bits: (z >>> 40) · 2⁻²⁴, exact in float32. */
  public float nextUniform24() {
    return (nextLong() >>> 40) * 0x1p-24f;
  }
}
