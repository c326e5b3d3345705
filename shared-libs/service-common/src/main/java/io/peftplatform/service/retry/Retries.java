package io.peftplatform.service.retry;

import io.smallrye.faulttolerance.api.Guard;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** The retry policy of the workers' runs: transient failures again and again, with backoff, within a window. */
public final class Retries {
  private Retries() {}

  /**
   * A guard that calls again after a failure {@code isTransient} accepts — after 1 s, doubling up to 30
   * s — until the call succeeds or {@code window} has passed; any other failure passes through at once.
   */
  public static Guard withinWindow(Duration window, Predicate<Throwable> isTransient, Consumer<Throwable> beforeRetry) {
    long millis = Math.max(2, window.toMillis());
    return Guard.create()
        .withRetry().maxRetries(-1).maxDuration(millis, ChronoUnit.MILLIS).delay(1, ChronoUnit.SECONDS)
        .jitter(200, ChronoUnit.MILLIS).whenException(isTransient).beforeRetry(beforeRetry)
        .withExponentialBackoff().factor(2).maxDelay(Math.min(30_000, millis / 2), ChronoUnit.MILLIS).done()
        .done().build();
  }
}
