package io.peftplatform.service.kafka;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.peftplatform.service.retry.Transient;
import io.peftplatform.service.tracing.EventTracing;
import jakarta.inject.Inject;
import io.smallrye.faulttolerance.api.Guard;
import java.time.temporal.ChronoUnit;
import java.util.function.BooleanSupplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Publishes events keyed by their aggregate id: for workers, which keep no database and so no outbox.
 * {@link #publish} waits for the broker's acknowledgement (an event is sent before the step that follows
 * it); {@link #publishUntilSent} keeps trying through a broker outage (an outcome must not be lost);
 * {@link #offer} does not wait at all (progress, heartbeats: the next one will do). A redelivered command
 * re-sends what it repeats, and consumers drop duplicates by event id.
 */
@ApplicationScoped
public class EventPublisher {
  private static final Logger LOG = Logger.getLogger(EventPublisher.class);

  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @Inject EventTracing tracing;

  private KafkaProducer<String, String> producer;

  private synchronized KafkaProducer<String, String> producer() {
    if (producer == null) {
      producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000,
          ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 2_000), new StringSerializer(), new StringSerializer());
    }
    return producer;
  }

  public void publish(String topic, PlatformEvent event) {
    publishEncoded(topic, event.aggregateId(), EventCodec.encode(event));
  }

  /**
   * An event already in its JSON form, keyed by its aggregate's id. Inside a trace (a job's, a merge's) it
   * is sent in a span of its own, and its record carries the trace on.
   */
  public void publishEncoded(String topic, String aggregateId, String json) {
    ProducerRecord<String, String> record = new ProducerRecord<>(topic, aggregateId, json);
    Span span = tracing.startSend(Context.current(), topic, aggregateId, () -> EventCodec.typeOfEncoded(json), record.headers());
    Throwable error = null;
    try {
      producer().send(record).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      error = e;
      throw new IllegalStateException("interrupted while publishing an event of " + aggregateId, e);
    } catch (Exception e) {
      error = e;
      throw new IllegalStateException("cannot publish an event of " + aggregateId + " to " + topic + ": " + e.getMessage(), e);
    } finally {
      EventTracing.sent(span, error);
    }
  }

  /**
   * Publishes, retrying with backoff while the broker is away, until it is sent — or until {@code giveUp}
   * says to stop trying (the work moved to another worker, which will announce it).
   *
   * @return whether it was sent
   */
  public boolean publishUntilSent(String topic, String aggregateId, String json, BooleanSupplier giveUp) {
    Guard untilSent = Guard.create()
        .withRetry().maxRetries(-1).maxDuration(7, ChronoUnit.DAYS).delay(500, ChronoUnit.MILLIS)
        .whenException(e -> Transient.is(e) && !giveUp.getAsBoolean())
        .beforeRetry(e -> LOG.warnf("%s; retrying", e.getMessage()))
        .withExponentialBackoff().factor(2).maxDelay(15, ChronoUnit.SECONDS).done()
        .done().build();
    try {
      untilSent.call(() -> {
        publishEncoded(topic, aggregateId, json);
        return null;
      }, Void.class);
      return true;
    } catch (RuntimeException e) {
      if (Transient.is(e)) {
        return false; // given up: the work moved on
      }
      throw e;
    } catch (Exception e) {
      return false; // interrupted: stopping
    }
  }

  /**
   * Sends without waiting; a failure is logged, not thrown (for events the next one supersedes). Untraced:
   * a job's progress and heartbeats would otherwise be thousands of spans in its trace.
   */
  public void offer(String topic, PlatformEvent event) {
    try {
      producer().send(new ProducerRecord<>(topic, event.aggregateId(), EventCodec.encode(event)), (metadata, error) -> {
        if (error != null) {
          LOG.debugf("dropped %s of %s: %s", EventCodec.typeOf(event), event.aggregateId(), error.getMessage());
        }
      });
    } catch (RuntimeException e) {
      LOG.debugf("dropped %s of %s: %s", EventCodec.typeOf(event), event.aggregateId(), e.getMessage());
    }
  }

  void stop(@Observes ShutdownEvent e) {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
