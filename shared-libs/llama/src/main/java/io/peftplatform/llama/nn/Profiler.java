package io.peftplatform.llama.nn;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time per stage of forward and backward, for benchmarks ({@code peft bench … --profile}). Off
 * unless enabled; when off a mark costs one branch. Single-threaded, like the model.
 */
public final class Profiler {
  private static boolean enabled = Boolean.getBoolean("peft.profile");
  private static final Map<String, long[]> TOTALS = new LinkedHashMap<>();
  private static long last = System.nanoTime();

  private Profiler() {}

  public static void enable() {
    enabled = true;
    reset();
  }

  public static void reset() {
    TOTALS.clear();
    last = System.nanoTime();
  }

  /** Starts timing from now (time since the last mark is not attributed). */
  public static void start() {
    if (enabled) {
      last = System.nanoTime();
    }
  }

  /** Attributes the time since the last mark to {@code stage}. */
  public static void mark(String stage) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    TOTALS.computeIfAbsent(stage, k -> new long[1])[0] += now - last;
    last = now;
  }

  /** A table of stages: total seconds and share, divided by {@code steps}. */
  public static String table(int steps) {
    long total = TOTALS.values().stream().mapToLong(v -> v[0]).sum();
    StringBuilder sb = new StringBuilder("| stage | s/step | share |\n|---|---|---|\n");
    TOTALS.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.1f%% |%n", k, v[0] / 1e9 / steps, 100.0 * v[0] / total)));
    return sb.toString();
  }
}
