package io.peftplatform.jobs.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.jobs.service.ArtifactEvents;
import io.peftplatform.jobs.service.WorkerEvents;
import io.peftplatform.service.retry.Retries;
import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.peftplatform.service.retry.Transient;
import io.smallrye.faulttolerance.api.ApplyGuard;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The jobs service's Kafka consumers: worker events drive the job state machine; artifact events keep the
 * projections of models and datasets. A transient failure (the database away) is retried with backoff,
 * in order, until it passes. A message that can never be applied goes to the channel's dead-letter topic,
 * and the job it concerns fails with the reason instead of waiting forever.
 */
@ApplicationScoped
public class EventConsumers {
  private static final Logger LOG = Logger.getLogger(EventConsumers.class);

  @Inject WorkerEvents workerEvents;
  @Inject ArtifactEvents artifactEvents;
  @Inject EventTracing tracing;

  @Incoming("job-events")
  @Blocking(ordered = true)
  @ApplyGuard(Retries.CONSUMERS)
  public void jobEvents(ConsumerRecord<String, String> record) {
    String payload = record.value();
    PlatformEvent event;
    try {
      event = EventCodec.decode(payload);
    } catch (IllegalArgumentException poison) {
      EventCodec.aggregateIdOf(payload).ifPresent(a -> workerEvents.failForUnreadableEvent(a.id(), poison.getMessage()));
      throw poison;
    }
    try (Traced consumed = tracing.consume(record, EventCodec.typeOf(event))) {
      workerEvents.onJobEvent(event);
    } catch (RuntimeException e) {
      if (!Transient.is(e)) {
        LOG.errorf(e, "%s of job %s cannot be applied; it goes to the dead-letter topic", EventCodec.typeOf(event), event.aggregateId());
        workerEvents.failForUnreadableEvent(event.aggregateId(), EventCodec.typeOf(event) + " could not be applied: " + e.getMessage());
      }
      throw e;
    }
  }

  @Incoming("artifact-events")
  @Blocking(ordered = true)
  @ApplyGuard(Retries.CONSUMERS)
  public void artifactEvents(ConsumerRecord<String, String> record) {
    PlatformEvent event = EventCodec.decode(record.value());
    try (Traced consumed = tracing.consume(record, EventCodec.typeOf(event))) {
      artifactEvents.onArtifactEvent(event);
    }
  }
}
