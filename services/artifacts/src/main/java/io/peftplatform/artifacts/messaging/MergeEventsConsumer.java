package io.peftplatform.artifacts.messaging;

import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.peftplatform.artifacts.service.MergeService;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeCancelled;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeProgressed;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.service.retry.Retries;
import io.peftplatform.service.retry.Transient;
import io.smallrye.faulttolerance.api.ApplyGuard;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads peft.merge-events: a learned merge's progress, and a merge's outcome, which registers its output
 * or records why it failed or that it was cancelled. A
 * transient failure is retried with backoff, in order; an outcome that can never be applied goes to the
 * dead-letter topic and its merge fails with the reason.
 */
@ApplicationScoped
public class MergeEventsConsumer {
  @Inject MergeService merges;
  @Inject EventTracing tracing;

  @Incoming("merge-events")
  @Blocking(ordered = true)
  @ApplyGuard(Retries.CONSUMERS)
  public void consume(ConsumerRecord<String, String> record) {
    String payload = record.value();
    PlatformEvent event;
    try {
      event = EventCodec.decode(payload);
    } catch (IllegalArgumentException poison) {
      EventCodec.aggregateIdOf(payload).ifPresent(m -> merges.failForUnreadableOutcome(m.id(), poison.getMessage()));
      throw poison;
    }
    try (Traced consumed = tracing.consume(record, EventCodec.typeOf(event))) {
      if (event instanceof MergeSucceeded succeeded) {
        merges.onSucceeded(succeeded);
      } else if (event instanceof MergeFailed failed) {
        merges.onFailed(failed);
      } else if (event instanceof MergeProgressed progressed) {
        merges.onProgressed(progressed);
      } else if (event instanceof MergeCancelled cancelled) {
        merges.onCancelled(cancelled);
      }
    } catch (RuntimeException e) {
      if (!Transient.is(e)) {
        merges.failForUnreadableOutcome(event.aggregateId(), EventCodec.typeOf(event) + " could not be applied: " + e.getMessage());
      }
      throw e;
    }
  }
}
