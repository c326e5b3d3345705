package io.peftplatform.training.spec;

import java.util.Locale;

/**
 * What the run minimises.
 *
 * @param kind supervised: cross-entropy on the labelled tokens; dpo: Direct Preference Optimization
 *     (Rafailov et al., 2023) on pairs of preferred and non-preferred answers, against the base model with
 *     the adapter switched off as the reference; simpo: SimPO (Meng et al., 2024), the margin of the answers'
 *     length-normalised log-probabilities, no reference; orpo: ORPO (Hong et al., 2024), the preferred
 *     answer's cross-entropy plus the log odds ratio of the two, no reference
 * @param beta DPO's β (how far the policy may move from the reference: larger stays closer), SimPO's β (the
 *     scale of its reward), ORPO's λ (the weight of the odds-ratio term); unused by supervised training
 * @param gamma SimPO's target reward margin γ; 0 for the others
 */
public record Objective(Kind kind, double beta, double gamma) {
  public static final double DEFAULT_BETA = 0.1;
  /** SimPO's β and γ as its paper and TRL's CPO trainer set them by default. */
  public static final double DEFAULT_SIMPO_BETA = 2.0;
  public static final double DEFAULT_SIMPO_GAMMA = 0.5;
  /** ORPO's λ as its paper and TRL's ORPO trainer set it by default. */
  public static final double DEFAULT_ORPO_LAMBDA = 0.1;

  public enum Kind {
    SUPERVISED,
    DPO,
    SIMPO,
    ORPO;

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
      throw new IllegalArgumentException("objective must be supervised, dpo, simpo or orpo, got '" + name + "'");
    }

    /** β's default (λ's for ORPO). */
    public double defaultBeta() {
      return switch (this) {
        case SIMPO -> DEFAULT_SIMPO_BETA;
        case ORPO -> DEFAULT_ORPO_LAMBDA;
        default -> DEFAULT_BETA;
      };
    }
  }

  public Objective {
    if (kind == null) {
      throw new IllegalArgumentException("objective kind is missing");
    }
    if (!(beta > 0) || !Double.isFinite(beta)) {
      throw new IllegalArgumentException("beta must be positive, got " + beta);
    }
    if (!(gamma >= 0) || !Double.isFinite(gamma)) {
      throw new IllegalArgumentException("gamma must be zero or positive, got " + gamma);
    }
    if (gamma != 0 && kind != Kind.SIMPO) {
      throw new IllegalArgumentException("gamma is SimPO's; this objective is " + kind.apiName());
    }
  }

  /** An objective of {@code kind}; null settings take their defaults. */
  public static Objective of(Kind kind, Double beta, Double gamma) {
    return new Objective(kind, beta != null ? beta : kind.defaultBeta(),
        gamma != null ? gamma : kind == Kind.SIMPO ? DEFAULT_SIMPO_GAMMA : 0);
  }

  public static Objective supervised() {
    return of(Kind.SUPERVISED, null, null);
  }

  public static Objective dpo(double beta) {
    return new Objective(Kind.DPO, beta, 0);
  }

  public static Objective simpo(double beta, double gamma) {
    return new Objective(Kind.SIMPO, beta, gamma);
  }

  public static Objective orpo(double lambda) {
    return new Objective(Kind.ORPO, lambda, 0);
  }

  /** Whether the run trains on preference pairs (not named isX: it is no property of the JSON). */
  public boolean pairwise() {
    return kind != Kind.SUPERVISED;
  }

  /** Whether a step also runs the reference model (the base, adapter off): DPO's only. */
  public boolean needsReference() {
    return kind == Kind.DPO;
  }

  /** How logs and the CLI name it, with its settings: "DPO (beta 0.1)", "SimPO (beta 2, gamma 0.5)". */
  public String describe() {
    return switch (kind) {
      case SUPERVISED -> "supervised";
      case DPO -> "DPO (beta " + beta + ")";
      case SIMPO -> "SimPO (beta " + beta + ", gamma " + gamma + ")";
      case ORPO -> "ORPO (lambda " + beta + ")";
    };
  }
}
