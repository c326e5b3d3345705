package io.peftplatform.training;

import java.nio.file.Path;

/** Receives a trainer's reports: the CLI draws a progress bar; the training service publishes events. */
public interface ProgressListener {
  void onStep(TrainingProgress progress);

  default void onCheckpoint(int step, Path directory) {}

  default void onValidation(int step, double loss) {}
}
