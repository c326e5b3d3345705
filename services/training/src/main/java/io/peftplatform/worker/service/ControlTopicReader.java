package io.peftplatform.worker.service;

import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobPauseRequested;
import io.peftplatform.events.JobResumeRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.service.kafka.ControlTopic;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Reads peft.job-control ({@link ControlTopic}: from its start, every worker all of it) into
 * {@link Cancellations}. A job about to start first waits until the reader has caught up with the
 * topic's end, so a cancellation sent before the job was picked up is never missed.
 */
@ApplicationScoped
public class ControlTopicReader {
  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @Inject Cancellations cancellations;

  private ControlTopic topic;

  void start(@Observes StartupEvent e) {
    topic = new ControlTopic(bootstrap, Topics.JOB_CONTROL, this::handle);
    topic.start();
  }

  void stop(@Observes ShutdownEvent e) {
    if (topic != null) {
      topic.stop();
    }
  }

  /** Blocks until every cancellation published before this call has been seen (false on timeout). */
  public boolean awaitCaughtUp(Duration timeout) {
    return topic.awaitCaughtUp(timeout);
  }

  private void handle(PlatformEvent e) {
    if (e instanceof JobCancelRequested c) {
      cancellations.request(c.aggregateId());
    } else if (e instanceof JobPauseRequested p) {
      cancellations.requestPause(p.aggregateId());
    } else if (e instanceof JobResumeRequested r) {
      cancellations.resume(r.aggregateId());
    }
  }
}
