package io.peftplatform.training.spec;

import java.util.Objects;

/**
 * One training run as asked for, before any file is read: the adapter, the loop, how data becomes
 * input, and the objective. The CLI builds it from options, the jobs service from a request, the worker
 * reads it from the job; {@code TrainingRun} in the training module turns it into a trainer for all three.
 * The defaults are those of its parts' {@code defaults()}.
 */
public record RunSpec(AdapterSpec adapter, TrainingConfig training, DataOptions data, Objective objective) {

  public RunSpec {
    Objects.requireNonNull(adapter, "adapter");
    Objects.requireNonNull(training, "training");
    data = data == null ? DataOptions.defaults() : data;
    objective = objective == null ? Objective.supervised() : objective;
    if (objective.pairwise() && data.packing()) {
      throw new IllegalArgumentException("packing applies to supervised training, not to preference pairs");
    }
    if (objective.pairwise() && data.trainOnInputs()) {
      throw new IllegalArgumentException("train on inputs applies to supervised training: preference tuning scores the answers only");
    }
  }

  public static RunSpec defaults(AdapterMethod method) {
    return new RunSpec(AdapterSpec.defaults(method), TrainingConfig.defaults(), DataOptions.defaults(), Objective.supervised());
  }
}
