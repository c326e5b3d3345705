package io.peftplatform.training.spec;

import java.util.List;

/**
 * What adapter to train: the method and its hyperparameters.
 *
 * @param rank r: LoRA/DoRA/NOLA rank; for Kronecker, the rank of decomposed factors and the scaling
 *     denominator, as in PEFT's LoKr
 * @param alpha scaling numerator: s = alpha / r (alpha / √r with rsLoRA)
 * @param dropout dropout on the adapter's input while training
 * @param targetModules module names ({@code q_proj} …) or {@code all-linear}
 * @param useRslora rank-stabilised scaling (LoRA, DoRA)
 * @param nolaBasesA NOLA: random bases combined into A (k)
 * @param nolaBasesB NOLA: random bases combined into B (l)
 * @param kronFactor Kronecker: PEFT's decompose_factor (−1: factors near the square root)
 * @param kronDecomposeBoth Kronecker: also decompose W₁ when the rank is small enough
 * @param seed seeds initialisation and NOLA's bases
 */
public record AdapterSpec(
    AdapterMethod method,
    int rank,
    double alpha,
    double dropout,
    List<String> targetModules,
    boolean useRslora,
    int nolaBasesA,
    int nolaBasesB,
    int kronFactor,
    boolean kronDecomposeBoth,
    long seed) {

  public static final int DEFAULT_RANK = 8;
  public static final int DEFAULT_NOLA_BASES = 64;

  public AdapterSpec {
    targetModules = List.copyOf(targetModules);
    if (rank < 1) {
      throw new IllegalArgumentException("rank must be at least 1, got " + rank);
    }
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("alpha must be positive, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
    }
    if (method == AdapterMethod.NOLA && (nolaBasesA < 1 || nolaBasesB < 1)) {
      throw new IllegalArgumentException("NOLA needs at least one basis for A and for B, got " + nolaBasesA + " and " + nolaBasesB);
    }
    if (kronFactor == 0 || kronFactor < -1) {
      throw new IllegalArgumentException("Kronecker factor must be -1 or positive, got " + kronFactor);
    }
    if (useRslora && (method == AdapterMethod.NOLA || method == AdapterMethod.KRONECKER)) {
      throw new IllegalArgumentException("rsLoRA applies to LoRA and DoRA only");
    }
  }

  /** Defaults for everything but the method: rank 8, alpha 16, no dropout, all linear modules. */
  public static AdapterSpec defaults(AdapterMethod method) {
    return new AdapterSpec(method, DEFAULT_RANK, 2.0 * DEFAULT_RANK, 0.0, List.of(TargetModules.ALL_LINEAR), false,
        DEFAULT_NOLA_BASES, DEFAULT_NOLA_BASES, -1, false, 0);
  }

  public double scaling() {
    return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  public AdapterSpec withRank(int r) {
    return new AdapterSpec(method, r, alpha, dropout, targetModules, useRslora, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withAlpha(double a) {
    return new AdapterSpec(method, rank, a, dropout, targetModules, useRslora, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withDropout(double p) {
    return new AdapterSpec(method, rank, alpha, p, targetModules, useRslora, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withTargets(List<String> targets) {
    return new AdapterSpec(method, rank, alpha, dropout, targets, useRslora, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withRslora(boolean on) {
    return new AdapterSpec(method, rank, alpha, dropout, targetModules, on, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withNolaBases(int k, int l) {
    return new AdapterSpec(method, rank, alpha, dropout, targetModules, useRslora, k, l, kronFactor, kronDecomposeBoth, seed);
  }

  public AdapterSpec withKron(int factor, boolean decomposeBoth) {
    return new AdapterSpec(method, rank, alpha, dropout, targetModules, useRslora, nolaBasesA, nolaBasesB, factor, decomposeBoth, seed);
  }

  public AdapterSpec withSeed(long s) {
    return new AdapterSpec(method, rank, alpha, dropout, targetModules, useRslora, nolaBasesA, nolaBasesB, kronFactor, kronDecomposeBoth, s);
  }
}
