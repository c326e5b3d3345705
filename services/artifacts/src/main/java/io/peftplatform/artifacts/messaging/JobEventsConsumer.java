package io.peftplatform.artifacts.messaging;

import io.peftplatform.artifacts.service.AdapterService;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.service.retry.Retries;
import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.smallrye.faulttolerance.api.ApplyGuard;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads peft.job-events: a succeeded job's adapter joins the registry. Other job events are for the
 * jobs service. A transient failure (database or object storage away) is retried with backoff, in
 * order; a message that is not an event fails here and goes to the dead-letter topic.
 */
@ApplicationScoped
public class JobEventsConsumer {
  @Inject AdapterService adapters;
  @Inject EventTracing tracing;

  @Incoming("job-events")
  @Blocking(ordered = true)
  @ApplyGuard(Retries.CONSUMERS)
  public void consume(ConsumerRecord<String, String> record) {
    PlatformEvent event = EventCodec.decode(record.value());
    if (event instanceof JobSucceeded succeeded) {
      try (Traced consumed = tracing.consume(record, EventCodec.typeOf(event))) {
        adapters.onJobSucceeded(succeeded);
      }
    }
  }
}
