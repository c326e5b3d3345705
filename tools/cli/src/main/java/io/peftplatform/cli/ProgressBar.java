package io.peftplatform.cli;

import io.peftplatform.training.ProgressListener;
import io.peftplatform.training.TrainingProgress;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** Training progress on stderr: a bar redrawn in place on a terminal, a line every tenth of the run otherwise. */
final class ProgressBar implements ProgressListener {
  private static final int WIDTH = 24;
  private final PrintStream out;
  private final boolean terminal = System.console() != null;
  private double lastValidation = Double.NaN;

  ProgressBar(PrintStream out) {
    this.out = out;
  }

  @Override
  public void onStep(TrainingProgress p) {
    if (p.hasValidation()) {
      lastValidation = p.validationLoss();
    }
    String line = line(p);
    if (terminal) {
      out.print("\r" + line + (p.step() == p.totalSteps() ? "\n" : ""));
    } else if (p.step() == 1 || p.step() == p.totalSteps() || p.hasValidation() || p.step() % Math.max(1, p.totalSteps() / 10) == 0) {
      out.println(line);
    }
    out.flush();
  }

  String line(TrainingProgress p) {
    int done = (int) Math.round(WIDTH * (double) p.step() / p.totalSteps());
    String bar = "=".repeat(Math.max(0, done - 1)) + (done > 0 ? ">" : "") + " ".repeat(WIDTH - done);
    Double accuracy = p.metrics().get("reward_accuracy");
    Double margin = p.metrics().get("reward_margin");
    return String.format(Locale.ROOT, "[%s] step %d/%d | epoch %.2f | loss %.4f%s%s | lr %.2e | %.0f tok/s | ETA %s",
        bar, p.step(), p.totalSteps(), p.epoch(), p.trainLoss(),
        Double.isNaN(lastValidation) ? "" : String.format(Locale.ROOT, " | val %.4f", lastValidation),
        accuracy == null ? "" : String.format(Locale.ROOT, " | acc %.2f | margin %.3f", accuracy, margin),
        p.learningRate(), p.tokensPerSecond(), duration(p.etaSeconds()));
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%02d:%02d", s / 60, s % 60);
  }

  @Override
  public void onCheckpoint(int step, Path directory) {
    if (terminal) {
      out.print("\r\033[K");
    }
    out.println("checkpoint " + directory);
  }
}
