package io.peftplatform.merging.learned;

import java.util.Arrays;

/**
 * The learned coefficients of a merge: for each merged module m, each expert e and each of the module's
 * k_m chunks c, a raw value θ and the coefficient c = act(θ) its task vector is scaled by. Flat, at index
 * {@code start(m) + e·k_m + c}; gradients (∂L/∂θ) beside them.
 */
final class Coefficients {
  /** How a raw value becomes a coefficient. */
  enum Activation {
    /** c = σ(θ) ∈ (0, 1): Expert Merging. */
    SIGMOID,
    /** c = clamp(θ, 0, 1), the gradient passing where 0 ≤ θ ≤ 1 (PyTorch's clamp): AdaMerging. */
    CLAMP;

    double value(double raw) {
      return this == SIGMOID ? 1 / (1 + Math.exp(-raw)) : Math.min(1, Math.max(0, raw));
    }

    /** dc/dθ at θ. */
    double slope(double raw) {
      if (this == SIGMOID) {
        double c = value(raw);
        return c * (1 - c);
      }
      return raw >= 0 && raw <= 1 ? 1 : 0;
    }

    /** The raw value whose coefficient is c. */
    double raw(double c) {
      return this == SIGMOID ? Math.log(c / (1 - c)) : c;
    }
  }

  private final Activation activation;
  private final int experts;
  private final int[] chunks; // (M) chunks of each module
  private final int[] start; // (M) each module's first index
  private final double[] raw; // (P)
  private final double[] grad; // (P) ∂L/∂θ

  /** Every coefficient at {@code initial}. */
  Coefficients(Activation activation, int experts, int[] chunks, double initial) {
    this.activation = activation;
    this.experts = experts;
    this.chunks = chunks.clone();
    this.start = new int[chunks.length];
    int p = 0;
    for (int m = 0; m < chunks.length; m++) {
      start[m] = p;
      p += experts * chunks[m];
    }
    this.raw = new double[p];
    this.grad = new double[p];
    Arrays.fill(raw, activation.raw(initial));
  }

  /** As {@code from} (one chunk per module) with each module's value repeated over its new chunks. */
  static Coefficients rechunked(Coefficients from, int[] chunks) {
    Coefficients c = new Coefficients(from.activation, from.experts, chunks, 0.5);
    for (int m = 0; m < chunks.length; m++) {
      for (int e = 0; e < c.experts; e++) {
        Arrays.fill(c.raw, c.index(m, e, 0), c.index(m, e, 0) + chunks[m], from.raw[from.index(m, e, 0)]);
      }
    }
    return c;
  }

  Activation activation() {
    return activation;
  }

  int experts() {
    return experts;
  }

  int chunks(int module) {
    return chunks[module];
  }

  int[] chunks() {
    return chunks.clone();
  }

  int index(int module, int expert, int chunk) {
    return start[module] + expert * chunks[module] + chunk;
  }

  /** Every coefficient. */
  int size() {
    return raw.length;
  }

  double value(int i) {
    return activation.value(raw[i]);
  }

  double value(int module, int expert, int chunk) {
    return value(index(module, expert, chunk));
  }

  /** Adds ∂L/∂c (the gradient with respect to the coefficient's value) to θ's gradient. */
  void addValueGradient(int i, double dc) {
    grad[i] += dc * activation.slope(raw[i]);
  }

  double[] raw() {
    return raw;
  }

  double[] grad() {
    return grad;
  }

  void zeroGrad() {
    Arrays.fill(grad, 0);
  }

  /** A module's coefficients, per expert, per chunk. */
  double[][] values(int module) {
    double[][] out = new double[experts][chunks[module]];
    for (int e = 0; e < experts; e++) {
      for (int c = 0; c < chunks[module]; c++) {
        out[e][c] = value(module, e, c);
      }
    }
    return out;
  }

  /** Σ over every coefficient of |c − target|, and its gradient (scaled) added: Expert Merging's pull to the start. */
  double addAbsolutePull(double target, double scale) {
    double sum = 0;
    for (int i = 0; i < raw.length; i++) {
      double d = value(i) - target;
      sum += Math.abs(d);
      addValueGradient(i, scale * Math.signum(d));
    }
    return sum;
  }

  /** Coefficients of one expert. */
  int perExpert() {
    return raw.length / experts;
  }
}
