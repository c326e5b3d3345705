package io.peftplatform.cli;

import io.peftplatform.merging.learned.LearnedMerge;
import io.peftplatform.training.ProgressListener;
import io.peftplatform.training.TrainingProgress;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Training and learned-merge progress on stderr: a bar redrawn in place on a terminal, a line every
 * tenth of the run otherwise.
 */
final class ProgressBar implements ProgressListener, LearnedMerge.Listener {
  private static final int WIDTH = 24;
  private final PrintStream out;
  private final boolean terminal = System.console() != null;
  private final long start = System.nanoTime();
  private double lastValidation = Double.NaN;

  ProgressBar(PrintStream out) {
    this.out = out;
  }

  @Override
  public void onStep(TrainingProgress p) {
    if (p.hasValidation()) {
      lastValidation = p.validationLoss();
    }
    draw(p.step(), p.totalSteps(), line(p), p.hasValidation());
  }

  @Override
  public void onStep(LearnedMerge.StepLoss s) {
    int step = s.step() + 1;
    double elapsed = (System.nanoTime() - start) / 1e9;
    String parts = s.parts().entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.4f", e.getKey(), e.getValue()))
        .collect(Collectors.joining(" | "));
    draw(step, s.steps(), String.format(Locale.ROOT, "[%s] step %d/%d | loss %.4f | %s | ETA %s", bar(step, s.steps()), step, s.steps(),
        s.loss(), parts, duration(elapsed / step * (s.steps() - step))), false);
  }

  @Override
  public void onChunking(Map<Integer, Integer> chunksPerLayer) {
    if (terminal) {
      out.print("\r\033[K");
    }
    out.println("chunks per module by layer importance: " + chunksPerLayer.entrySet().stream()
        .map(e -> "layer " + e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", ")));
  }

  private void draw(int step, int total, String line, boolean always) {
    if (terminal) {
      out.print("\r" + line + (step == total ? "\n" : ""));
    } else if (step == 1 || step == total || always || step % Math.max(1, total / 10) == 0) {
      out.println(line);
    }
    out.flush();
  }

  private static String bar(int step, int total) {
    int done = (int) Math.round(WIDTH * (double) step / total);
    return "=".repeat(Math.max(0, done - 1)) + (done > 0 ? ">" : "") + " ".repeat(WIDTH - done);
  }

  String line(TrainingProgress p) {
    String bar = bar(p.step(), p.totalSteps());
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
