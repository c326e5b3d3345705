package io.peftplatform.training;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.PreferencePair;
import io.peftplatform.text.dataset.TokenizedExample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct Preference Optimization (Rafailov et al., 2023), TRL's sigmoid loss: for a pair with answers
 * c (preferred) and r, log-probabilities summed over each answer's tokens under the policy π (base +
 * adapter) and the reference ρ (the same base, adapter switched off — no second copy of the weights),
 *
 * <pre>
 *   z = β · ((log π(c) − log ρ(c)) − (log π(r) − log ρ(r))),   loss = −log σ(z)
 * </pre>
 *
 * a step's loss the mean over its pairs. Since log π(answer) = −(its summed cross-entropy), the gradient
 * is the cross-entropy's, scaled per row: +β·σ(−z) on the preferred answer, −β·σ(−z) on the other.
 * Metrics (means over pairs): the rewards β(log π − log ρ) of each side, their margin, how often the
 * preferred one's is higher (accuracy), and each side's log-probability.
 */
public final class DpoObjective implements StepObjective {
  private final LlamaModel model;
  private final Adapter adapter;
  private final List<PreferencePair> train;
  private final List<PreferencePair> validation;
  private final int padId;
  private final double beta;
  private final int batchSize;

  /** @param batchSize pairs per validation batch */
  public DpoObjective(LlamaModel model, Adapter adapter, List<PreferencePair> train, List<PreferencePair> validation, int padId,
      double beta, int batchSize) {
    if (train.isEmpty()) {
      throw new TrainingException("no training pairs");
    }
    this.model = model;
    this.adapter = adapter;
    this.train = List.copyOf(train);
    this.validation = List.copyOf(validation);
    this.padId = padId;
    this.beta = beta;
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
    PaddedBatch b = rows(pairs);
    return new MicroBatch(pairs.size(), b.realTokens(), b);
  }

  /** Rows 0 … P−1 the preferred answers, P … 2P−1 the others, in the same order. */
  private PaddedBatch rows(List<PreferencePair> pairs) {
    List<TokenizedExample> rows = new ArrayList<>(2 * pairs.size());
    pairs.forEach(p -> rows.add(p.chosen()));
    pairs.forEach(p -> rows.add(p.rejected()));
    return PaddedBatch.of(rows, padId);
  }

  @Override
  public Sums forwardBackward(MicroBatch batch, double scale, Arena arena) {
    PaddedBatch rows = (PaddedBatch) batch.data();
    double[] reference = referenceLosses(rows, arena);
    Sums[] sums = new Sums[1];
    model.forwardBackward(rows, policy -> {
      double[] scales = new double[policy.length];
      sums[0] = pairs(policy, reference, scales, scale);
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
        PaddedBatch rows = rows(validation.subList(start, Math.min(validation.size(), start + batchSize)));
        double[] reference = referenceLosses(rows, arena);
        total = total.plus(pairs(model.rowLosses(rows, arena), reference, null, 0));
      }
      return total.means();
    } finally {
      arena.release();
    }
  }

  /** Each row's summed cross-entropy under the reference: the model with the adapter off. */
  private double[] referenceLosses(PaddedBatch rows, Arena arena) {
    adapter.enabled(false);
    try {
      return model.rowLosses(rows, arena);
    } finally {
      adapter.enabled(true);
    }
  }

  /**
   * The pairs' loss and metrics from the rows' summed cross-entropies; with {@code scales}, also each
   * row's gradient scale: ∂loss/∂(row cross-entropy) times {@code scale}.
   */
  private Sums pairs(double[] policy, double[] reference, double[] scales, double scale) {
    int p = policy.length / 2;
    double loss = 0;
    double chosenReward = 0;
    double rejectedReward = 0;
    double accuracy = 0;
    double chosenLogp = 0;
    double rejectedLogp = 0;
    for (int i = 0; i < p; i++) {
      double pc = -policy[i];
      double pr = -policy[p + i];
      double rc = beta * (pc + reference[i]);
      double rr = beta * (pr + reference[p + i]);
      double z = rc - rr;
      loss += Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z))); // softplus(−z) = −log σ(z)
      if (scales != null) {
        double g = beta / (1 + Math.exp(z)); // β·σ(−z)
        scales[i] = scale * g;
        scales[p + i] = -scale * g;
      }
      chosenReward += rc;
      rejectedReward += rr;
      accuracy += rc > rr ? 1 : 0;
      chosenLogp += pc;
      rejectedLogp += pr;
    }
    Map<String, Double> sums = new LinkedHashMap<>();
    sums.put("loss", loss);
    sums.put("reward_margin", chosenReward - rejectedReward);
    sums.put("reward_accuracy", accuracy);
    sums.put("chosen_reward", chosenReward);
    sums.put("rejected_reward", rejectedReward);
    sums.put("chosen_logp", chosenLogp);
    sums.put("rejected_logp", rejectedLogp);
    return new Sums(sums, p);
  }
}
