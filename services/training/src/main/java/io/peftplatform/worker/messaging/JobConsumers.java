package io.peftplatform.worker.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import io.peftplatform.worker.service.JobRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Acknowledgment;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * A worker's share of {@code job-commands}: each JobSubmitted runs to its end before the next, on a worker
 * thread, and is acknowledged (its offset committed) only then. A job handed over to another worker is
 * not acknowledged. Anything that is not an event goes to the dead-letter topic, and the job it names (if
 * it names one) fails with the reason, rather than waiting for a worker forever.
 */
@ApplicationScoped
public class JobConsumers {
  private static final Logger LOG = Logger.getLogger(JobConsumers.class);

  @Inject JobRunner runner;
  @Inject EventPublisher events;
  @Inject EventTracing tracing;

  @Incoming("job-commands")
  @Blocking("training-jobs")
  @Acknowledgment(Acknowledgment.Strategy.MANUAL)
  public CompletionStage<Void> onCommand(KafkaRecord<String, String> record) {
    PlatformEvent event;
    try {
      event = EventCodec.decode(record.getPayload());
    } catch (IllegalArgumentException poison) {
      EventCodec.aggregateIdOf(record.getPayload()).ifPresent(job -> events.offer(Topics.JOB_EVENTS, new JobFailed(EventCodec.newId(),
          Instant.now(), job.id(), job.tenant(), "invalid_command", "the workers could not read this job's command: " + poison.getMessage())));
      LOG.warnf("a command that is not an event goes to the dead-letter topic: %s", poison.getMessage());
      return record.nack(poison);
    }
    if (event instanceof JobSubmitted job) {
      // The job runs in the trace of the request that submitted it (the command carries it), and so do
      // the events it publishes; a job taken over after a crash joins the same trace.
      try (Traced command = tracing.consume(record.getTopic(), record.getKey(), record.getHeaders(), EventCodec.typeOf(job));
          Traced run = tracing.work("training job", Map.of(EventTracing.JOB_ID, job.aggregateId(), EventTracing.TENANT, job.tenant()))) {
        LOG.infof("running job %s (%s, %s) for %s", job.aggregateId(), job.spec().objective().kind().apiName(),
            job.spec().adapter().method().cliName(), job.tenant());
        if (!runner.run(job, record.getPartition())) {
          return CompletableFuture.completedFuture(null);
        }
      }
    }
    return record.ack();
  }
}
