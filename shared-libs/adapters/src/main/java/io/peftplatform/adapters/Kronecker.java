package io.peftplatform.adapters;

/** Factor shapes of Kronecker adapters, by PEFT's (LyCORIS's) rules. */
public final class Kronecker {
  private Kronecker() {}

  /**
   * Splits a dimension into m·n with m ≤ n: with a positive factor dividing it, (factor, dim/factor);
   * otherwise the divisor pair nearest the square root (not above {@code factor} when one is given).
   */
  public static int[] factorization(int dimension, int factor) {
    if (factor > 0 && dimension % factor == 0) {
      return new int[] {factor, dimension / factor};
    }
    int limit = factor == -1 ? dimension : factor;
    int m = 1;
    int n = dimension;
    int length = m + n;
    while (m < n) {
      int newM = m + 1;
      while (dimension % newM != 0) {
        newM++;
      }
      int newN = dimension / newM;
      if (newM + newN > length || newM > limit) {
        break;
      }
      m = newM;
      n = newN;
    }
    return m > n ? new int[] {n, m} : new int[] {m, n};
  }

  /**
   * The factor shapes of a Linear(in → out) layer: W₁ (a, b), W₂ (c, d) with out = a·c and in = b·d,
   * and whether each is stored whole or as a rank-r product.
   */
  public record Shape(int a, int b, int c, int d, boolean fullW1, boolean fullW2) {
    public static Shape of(int in, int out, int rank, int factor, boolean decomposeBoth) {
      int[] outF = factorization(out, factor);
      int[] inF = factorization(in, factor);
      int a = outF[0];
      int c = outF[1];
      int b = inF[0];
      int d = inF[1];
      boolean fullW1 = !(decomposeBoth && rank < Math.max(a, b) / 2.0);
      boolean fullW2 = !(rank < Math.max(c, d) / 2.0);
      return new Shape(a, b, c, d, fullW1, fullW2);
    }
  }
}
