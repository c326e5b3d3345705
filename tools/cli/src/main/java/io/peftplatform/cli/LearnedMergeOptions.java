package io.peftplatform.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.merge.config.LearnedMergeSpec;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The learned merges' settings as options, shared by {@code peft merge} (local) and {@code peft merges
 * create} (the platform): each left out keeps the default {@link LearnedMergeSpec} decides.
 */
public final class LearnedMergeOptions {
  @Option(names = "--steps", paramLabel = "N", description = "Learned merges: optimizer steps (default: 100).")
  Integer steps;

  @Option(names = "--lr", paramLabel = "LR", description = "Learned merges: Adam's learning rate (default: 0.05 expert_merging, 0.01 ada_merging).")
  Double learningRate;

  @Option(names = "--batch-size", paramLabel = "N", description = "Learned merges: texts per batch (default: 4).")
  Integer batchSize;

  @Option(names = "--seq-len", paramLabel = "N", description = "Learned merges: texts cut to this many tokens (default: 256).")
  Integer seqLen;

  @Option(names = "--chunks", paramLabel = "N", description = "Learned merges: coefficients per module and expert, over its output rows (default: 1).")
  Integer chunks;

  @Option(names = "--importance-chunks", description = "Expert Merging++: learn one coefficient per module first, then give important layers"
      + " more chunks (--chunks on average).")
  Boolean importanceChunks;

  @Option(names = "--init", paramLabel = "C", description = "Learned merges: every coefficient's start (default: 0.5 expert_merging, 0.3 ada_merging).")
  Double initialCoefficient;

  @Option(names = "--temperature", paramLabel = "T", description = "expert_merging: the logit alignment's temperature (default: 1).")
  Double temperature;

  @Option(names = "--hidden-layers", split = ",", paramLabel = "L,L…", description = "expert_merging: decoder layers whose outputs are aligned"
      + " (0-based; default: the middle one).")
  List<Integer> hiddenLayers;

  @Option(names = "--hidden-weight", paramLabel = "W", description = "expert_merging: the hidden-state loss's weight (default: 0.1).")
  Double hiddenWeight;

  @Option(names = "--regularization", paramLabel = "G", description = "expert_merging: the pull toward --init (default: 0.1).")
  Double regularization;

  /** The spec these options and the seed give, the rest at their defaults. */
  public LearnedMergeSpec spec(LearnedMergeSpec.Method method, Long seed) {
    return LearnedMergeSpec.of(method, steps, learningRate, batchSize, seqLen, chunks, importanceChunks, initialCoefficient, temperature,
        hiddenLayers, hiddenWeight, regularization, seed);
  }

  /** The API's {@code hyperparameters}: the options given, by their API names (the platform fills in the rest). */
  public void addTo(ObjectNode hyperparameters) {
    putIf(hyperparameters, "steps", steps);
    putIf(hyperparameters, "learning_rate", learningRate);
    putIf(hyperparameters, "batch_size", batchSize);
    putIf(hyperparameters, "max_seq_len", seqLen);
    putIf(hyperparameters, "chunks", chunks);
    putIf(hyperparameters, "importance_chunking", importanceChunks);
    putIf(hyperparameters, "initial_coefficient", initialCoefficient);
    putIf(hyperparameters, "temperature", temperature);
    if (hiddenLayers != null) {
      hiddenLayers.forEach(hyperparameters.putArray("hidden_layers")::add);
    }
    putIf(hyperparameters, "hidden_weight", hiddenWeight);
    putIf(hyperparameters, "regularization", regularization);
  }

  /** Whether any learned-merge option was given (they mean nothing to other merges). */
  public boolean any() {
    return steps != null || learningRate != null || batchSize != null || seqLen != null || chunks != null || importanceChunks != null
        || initialCoefficient != null || temperature != null || hiddenLayers != null || hiddenWeight != null || regularization != null;
  }

  private static void putIf(ObjectNode n, String field, Object value) {
    if (value instanceof Integer i) {
      n.put(field, i);
    } else if (value instanceof Double d) {
      n.put(field, d);
    } else if (value instanceof Boolean b) {
      n.put(field, b);
    }
  }
}
