package io.peftplatform.artifacts.messaging;

import io.peftplatform.artifacts.service.AdapterService;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.service.retry.Retries;
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

  @Incoming("job-events")
  @Blocking(ordered = true)
  @ApplyGuard(Retries.CONSUMERS)
  public void consume(String payload) {
    PlatformEvent event = EventCodec.decode(payload);
    if (event instanceof JobSucceeded succeeded) {
      adapters.onJobSucceeded(succeeded);
    }
  }
}
