package io.peftplatform.service.outbox;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * The outbox as an operator watches it: {@code peft_outbox_backlog} rows not yet published,
 * {@code peft_outbox_oldest_age_seconds} how long the oldest of them has waited (a relay that cannot reach
 * the broker shows here first: alert on it), {@code peft_outbox_parked} rows the broker refused for good.
 * Counted every {@code peft.outbox.metrics-interval} (10 s) rather than on each scrape, so a scrape never
 * waits on the database; the values are NaN until the first count and while the database is away. The
 * service is the series' {@code application} tag.
 */
@ApplicationScoped
public class OutboxMetrics {
  private static final Logger LOG = Logger.getLogger(OutboxMetrics.class);

  record Counts(double backlog, double oldestAgeSeconds, double parked) {
    static final Counts UNKNOWN = new Counts(Double.NaN, Double.NaN, Double.NaN);
  }

  @Inject EntityManager em;

  private final AtomicReference<Counts> counts = new AtomicReference<>(Counts.UNKNOWN);

  void register(@Observes StartupEvent start, MeterRegistry registry) {
    Gauge.builder("peft.outbox.backlog", () -> counts.get().backlog())
        .description("Outbox rows not yet published").register(registry);
    Gauge.builder("peft.outbox.oldest.age", () -> counts.get().oldestAgeSeconds()).baseUnit("seconds")
        .description("How long the oldest unpublished outbox row has waited (0 when none)").register(registry);
    Gauge.builder("peft.outbox.parked", () -> counts.get().parked())
        .description("Outbox rows the broker refused for good, set aside").register(registry);
  }

  @Scheduled(every = "${peft.outbox.metrics-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void refresh() {
    try {
      counts.set(count());
    } catch (RuntimeException e) {
      counts.set(Counts.UNKNOWN);
      LOG.debugf("outbox metrics: %s", e.getMessage());
    }
  }

  @Transactional
  Counts count() {
    Object[] pending = (Object[]) em.createQuery(
        "SELECT count(o), min(o.createdAt) FROM OutboxEvent o WHERE o.publishedAt IS NULL AND o.parkedAt IS NULL").getSingleResult();
    long parked = em.createQuery("SELECT count(o) FROM OutboxEvent o WHERE o.parkedAt IS NOT NULL", Long.class).getSingleResult();
    Instant oldest = (Instant) pending[1];
    double age = oldest == null ? 0 : Math.max(0, Duration.between(oldest, Instant.now()).toMillis() / 1000.0);
    return new Counts(((Number) pending[0]).doubleValue(), age, parked);
  }
}
