package io.peftplatform.service.retry;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The platform's retry policies: transient failures again and again, with backoff. {@link #CONSUMERS} is
 * the one every Kafka consumer applies ({@code @ApplyGuard(Retries.CONSUMERS)}): in order, until the
 * database or storage is back; the workers' runs use {@link #withinWindow}.
 */
@ApplicationScoped
public class Retries {
  /** The name of the consumers' guard. */
  public static final String CONSUMERS = "consumer-retries";

  @Produces
  @Identifier(CONSUMERS)
  static final Guard CONSUMER_GUARD = Guard.create()
      .withRetry().maxRetries(-1).maxDuration(7, ChronoUnit.DAYS).delay(500, ChronoUnit.MILLIS).jitter(200, ChronoUnit.MILLIS)
      .whenException(Transient::is)
      .withExponentialBackoff().factor(2).maxDelay(30, ChronoUnit.SECONDS).done()
      .done().build();

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
