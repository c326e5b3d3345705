package io.peftplatform.training;

import io.peftplatform.llama.nn.Arena;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a training step minimises, over micro-batches of training examples: how a micro-batch is built,
 * what a step's loss is normalised by, one forward and backward, and validation. {@link Trainer} runs the
 * loop around it; {@link SupervisedObjective} and {@link PreferenceObjective} (DPO, SimPO, ORPO) are the two.
 */
public interface StepObjective {
  /** Training examples (preference pairs for DPO): an epoch visits each once. */
  int size();

  /** The micro-batch of training examples {@code order[from..to)}. */
  MicroBatch batch(int[] order, int from, int to);

  /**
   * Adds ∂(Σ loss)/∂θ · {@code scale} to the adapter's gradients, where the step's loss is the sum over
   * its micro-batches divided by the step's {@link MicroBatch#normaliser}s (so {@code scale} = 1 / their
   * sum). Returns the batch's summed loss and metrics.
   */
  Sums forwardBackward(MicroBatch batch, double scale, Arena arena);

  /** The mean loss ({@code "loss"}) and metrics over the validation examples, adapter in inference mode. */
  Map<String, Double> validate();

  /** Whether there is anything to validate on. */
  boolean hasValidation();

  /**
   * A micro-batch.
   *
   * @param normaliser what the step's loss is a mean over: scored tokens, or pairs
   * @param tokens real (unpadded) tokens, for throughput
   * @param data the objective's own input
   */
  record MicroBatch(long normaliser, long tokens, Object data) {}

  /** Summed loss and metrics over {@code count} units (tokens or pairs); their means are the step's. */
  record Sums(Map<String, Double> sums, long count) {
    public static Sums empty() {
      return new Sums(Map.of(), 0);
    }

    public Sums plus(Sums o) {
      Map<String, Double> out = new LinkedHashMap<>(sums);
      o.sums.forEach((k, v) -> out.merge(k, v, Double::sum));
      return new Sums(out, count + o.count);
    }

    /** Each sum divided by the count: "loss" and the metrics as means. */
    public Map<String, Double> means() {
      Map<String, Double> out = new LinkedHashMap<>();
      sums.forEach((k, v) -> out.put(k, count == 0 ? Double.NaN : v / count));
      return out;
    }
  }
}
