package io.peftplatform.worker.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.worker.service.JobRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Acknowledgment;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * A worker's share of {@code job-commands}: each JobSubmitted runs to its end before the next, on a worker
 * thread, and is acknowledged (its offset committed) only then. A job handed over to another worker is
 * not acknowledged; anything that is not an event goes to the dead-letter topic.
 */
@ApplicationScoped
public class JobConsumers {
  private static final Logger LOG = Logger.getLogger(JobConsumers.class);

  @Inject JobRunner runner;

  @Incoming("job-commands")
  @Blocking("training-jobs")
  @Acknowledgment(Acknowledgment.Strategy.MANUAL)
  public CompletionStage<Void> onCommand(KafkaRecord<String, String> record) {
    PlatformEvent event;
    try {
      event = EventCodec.decode(record.getPayload());
    } catch (IllegalArgumentException poison) {
      return record.nack(poison);
    }
    if (event instanceof JobSubmitted job) {
      LOG.infof("running job %s (%s) for %s", job.aggregateId(), job.spec().method(), job.tenant());
      if (!runner.run(job, record.getPartition())) {
        return CompletableFuture.completedFuture(null);
      }
    }
    return record.ack();
  }
}
