package io.peftplatform.jobs.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.jobs.service.JobService;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * The jobs service's Kafka consumers: worker events drive the job state machine; artifact events keep the
 * projections of models and datasets. Anything that is not an event goes to the channel's dead-letter
 * topic.
 */
@ApplicationScoped
public class EventConsumers {
  @Inject JobService jobs;

  @Incoming("job-events")
  @Blocking(ordered = true)
  public void jobEvents(String payload) {
    jobs.onJobEvent(EventCodec.decode(payload));
  }

  @Incoming("artifact-events")
  @Blocking(ordered = true)
  public void artifactEvents(String payload) {
    jobs.onArtifactEvent(EventCodec.decode(payload));
  }
}
