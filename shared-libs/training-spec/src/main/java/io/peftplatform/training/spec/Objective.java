package io.peftplatform.training.spec;

import java.util.Locale;

/**
 * What the run minimises.
 *
 * @param kind supervised: cross-entropy on the labelled tokens; dpo: Direct Preference Optimization
 *     (Rafailov et al., 2023) on pairs of preferred and non-preferred answers, against the base model with
 *     the adapter switched off as the reference
 * @param beta DPO's β: how far the policy may move from the reference (larger stays closer)
 */
public record Objective(Kind kind, double beta) {
  public static final double DEFAULT_BETA = 0.1;

  public enum Kind {
    SUPERVISED,
    DPO;

    /** The name the API and the CLI use. */
    public String apiName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Kind parse(String name) {
      for (Kind k : values()) {
        if (k.apiName().equalsIgnoreCase(name) || (k == SUPERVISED && name.equalsIgnoreCase("sft"))) {
          return k;
        }
      }
      throw new IllegalArgumentException("objective must be supervised or dpo, got '" + name + "'");
    }
  }

  public Objective {
    if (kind == null) {
      throw new IllegalArgumentException("objective kind is missing");
    }
    if (!(beta > 0) || !Double.isFinite(beta)) {
      throw new IllegalArgumentException("beta must be positive, got " + beta);
    }
  }

  public static Objective supervised() {
    return new Objective(Kind.SUPERVISED, DEFAULT_BETA);
  }

  public static Objective dpo(double beta) {
    return new Objective(Kind.DPO, beta);
  }

  /** Whether the run trains on preference pairs (not named isX: it is no property of the JSON). */
  public boolean pairwise() {
    return kind == Kind.DPO;
  }
}
