package io.peftplatform.training;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.PreferencePair;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.spec.Objective;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Preference tuning on pairs of answers to one prompt, c preferred and r not. With an answer's
 * log-probability under the policy π (base + adapter) summed over its n tokens, log π(·), and its mean
 * a = log π(·) / n:
 *
 * <pre>
 *   DPO   (Rafailov et al., 2023; TRL's sigmoid loss), against the reference ρ — the same base with the
 *         adapter switched off, no second copy of the weights:
 *           z = β · ((log π(c) − log ρ(c)) − (log π(r) − log ρ(r))),        loss = −log σ(z)
 *   SimPO (Meng et al., 2024), no reference:
 *           z = β · (a(c) − a(r)) − γ,                                       loss = −log σ(z)
 *   ORPO  (Hong et al., 2024), no reference:
 *           d = (a(c) − a(r)) − (log(1 − e^a(c)) − log(1 − e^a(r))),         loss = −a(c) − λ · log σ(d)
 * </pre>
 *
 * a step's loss the mean over its pairs (ORPO's cross-entropy term is so the preferred answer's mean over
 * its tokens, pair by pair; TRL averages it over the batch's tokens instead, the same where the preferred
 * answers are equally long). Since log π(answer) = −(its summed cross-entropy), each gradient is the
 * cross-entropy's scaled per row — ∂loss/∂(the row's summed cross-entropy) — so a step is one forward and
 * backward of the policy (DPO adds a forward of the reference).
 *
 * <p>Metrics (means over pairs): each side's reward — β(log π − log ρ) for DPO, β·a for SimPO and ORPO —,
 * their margin, how often the preferred one's is higher (accuracy), each side's summed log-probability;
 * ORPO also its cross-entropy term ({@code nll_loss}) and the log odds ratio d ({@code log_odds_ratio}).
 */
public final class PreferenceObjective implements StepObjective {
  private final LlamaModel model;
  private final Adapter adapter;
  private final List<PreferencePair> train;
  private final List<PreferencePair> validation;
  private final int padId;
  private final Objective objective;
  private final int batchSize;

  /** @param batchSize pairs per validation batch */
  public PreferenceObjective(LlamaModel model, Adapter adapter, List<PreferencePair> train, List<PreferencePair> validation, int padId,
      Objective objective, int batchSize) {
    if (!objective.pairwise()) {
      throw new IllegalArgumentException(objective.describe() + " does not train on preference pairs");
    }
    if (train.isEmpty()) {
      throw new TrainingException("no training pairs");
    }
    this.model = model;
    this.adapter = adapter;
    this.train = List.copyOf(train);
    this.validation = List.copyOf(validation);
    this.padId = padId;
    this.objective = objective;
    this.batchSize = batchSize;
  }

  @Override
  public int size() {
    return train.size();
  }

  @Override
  public MicroBatch batch(int[] order, int from, int to) {
    List<PreferencePair> pairs = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      pairs.add(train.get(order[i]));
    }
    Rows rows = rows(pairs);
    return new MicroBatch(pairs.size(), rows.batch().realTokens(), rows);
  }

  /** The padded rows and each row's scored tokens (an answer's length n). */
  private record Rows(PaddedBatch batch, int[] lengths) {}

  /** Rows 0 … P−1 the preferred answers, P … 2P−1 the others, in the same order. */
  private Rows rows(List<PreferencePair> pairs) {
    List<TokenizedExample> rows = new ArrayList<>(2 * pairs.size());
    pairs.forEach(p -> rows.add(p.chosen()));
    pairs.forEach(p -> rows.add(p.rejected()));
    int[] lengths = rows.stream().mapToInt(TokenizedExample::predictedTokens).toArray();
    return new Rows(PaddedBatch.of(rows, padId), lengths);
  }

  @Override
  public Sums forwardBackward(MicroBatch batch, double scale, Arena arena) {
    Rows rows = (Rows) batch.data();
    double[] reference = referenceLosses(rows.batch(), arena);
    Sums[] sums = new Sums[1];
    model.forwardBackward(rows.batch(), policy -> {
      double[] scales = new double[policy.length];
      sums[0] = pairs(policy, reference, rows.lengths(), scales, scale);
      return scales;
    }, arena);
    return sums[0];
  }

  @Override
  public boolean hasValidation() {
    return !validation.isEmpty();
  }

  @Override
  public Map<String, Double> validate() {
    Arena arena = new Arena(model.dataType());
    try {
      Sums total = Sums.empty();
      for (int start = 0; start < validation.size(); start += batchSize) {
        Rows rows = rows(validation.subList(start, Math.min(validation.size(), start + batchSize)));
        double[] reference = referenceLosses(rows.batch(), arena);
        total = total.plus(pairs(model.rowLosses(rows.batch(), arena), reference, rows.lengths(), null, 0));
      }
      return total.means();
    } finally {
      arena.release();
    }
  }

  /** Each row's summed cross-entropy under the reference (the model with the adapter off); null where none is needed. */
  private double[] referenceLosses(PaddedBatch rows, Arena arena) {
    if (!objective.needsReference()) {
      return null;
    }
    adapter.enabled(false);
    try {
      return model.rowLosses(rows, arena);
    } finally {
      adapter.enabled(true);
    }
  }

  /**
   * The pairs' loss and metrics from the rows' summed cross-entropies (and answer lengths); with
   * {@code scales}, also each row's gradient scale: ∂loss/∂(row cross-entropy) times {@code scale}.
   */
  private Sums pairs(double[] policy, double[] reference, int[] lengths, double[] scales, double scale) {
    int p = policy.length / 2;
    double beta = objective.beta();
    Map<String, Double> sums = new LinkedHashMap<>();
    for (String metric : List.of("loss", "reward_margin", "reward_accuracy", "chosen_reward", "rejected_reward", "chosen_logp",
        "rejected_logp")) {
      sums.put(metric, 0.0);
    }
    if (objective.kind() == Objective.Kind.ORPO) {
      sums.put("nll_loss", 0.0);
      sums.put("log_odds_ratio", 0.0);
    }
    for (int i = 0; i < p; i++) {
      double pc = -policy[i]; // log π(c)
      double pr = -policy[p + i];
      int nc = Math.max(1, lengths[i]);
      int nr = Math.max(1, lengths[p + i]);
      double rc;
      double rr;
      double loss;
      double gc; // ∂loss/∂(c's summed cross-entropy)
      double gr;
      switch (objective.kind()) {
        case DPO -> {
          rc = beta * (pc + reference[i]);
          rr = beta * (pr + reference[p + i]);
          double z = rc - rr;
          loss = softplus(-z);
          gc = beta * sigmoid(-z);
          gr = -gc;
        }
        case SIMPO -> {
          rc = beta * pc / nc;
          rr = beta * pr / nr;
          double z = rc - rr - objective.gamma();
          loss = softplus(-z);
          double g = sigmoid(-z);
          gc = g * beta / nc;
          gr = -g * beta / nr;
        }
        case ORPO -> {
          double ac = Math.min(pc / nc, -1e-12); // a mean log-probability below 0, so that 1 − e^a > 0
          double ar = Math.min(pr / nr, -1e-12);
          double d = (ac - ar) - (log1mExp(ac) - log1mExp(ar));
          rc = beta * ac;
          rr = beta * ar;
          loss = -ac + beta * softplus(-d);
          double g = beta * sigmoid(-d);
          // ∂d/∂a = 1/(1 − e^a) for c, −1/(1 − e^a) for r; ∂a/∂(cross-entropy) = −1/n.
          gc = 1.0 / nc + g / (-Math.expm1(ac) * nc);
          gr = -g / (-Math.expm1(ar) * nr);
          sums.merge("nll_loss", -ac, Double::sum);
          sums.merge("log_odds_ratio", d, Double::sum);
        }
        default -> throw new IllegalStateException(objective.describe());
      }
      if (scales != null) {
        scales[i] = scale * gc;
        scales[p + i] = scale * gr;
      }
      sums.merge("loss", loss, Double::sum);
      sums.merge("reward_margin", rc - rr, Double::sum);
      sums.merge("reward_accuracy", rc > rr ? 1.0 : 0.0, Double::sum);
      sums.merge("chosen_reward", rc, Double::sum);
      sums.merge("rejected_reward", rr, Double::sum);
      sums.merge("chosen_logp", pc, Double::sum);
      sums.merge("rejected_logp", pr, Double::sum);
    }
    return new Sums(sums, p);
  }

  /** log(1 + e^x), without overflow. */
  static double softplus(double x) {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  }

  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** log(1 − e^a) for a &lt; 0, accurate near 0 too. */
  static double log1mExp(double a) {
    return a > -0.693 ? Math.log(-Math.expm1(a)) : Math.log1p(-Math.exp(a));
  }
}
