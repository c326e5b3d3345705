package io.peftplatform.worker.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.worker.service.JobRunner;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * A worker's share of {@code job-commands}: each JobSubmitted runs to its end before the next (the offset
 * is committed after), on a worker thread. Anything that is not an event goes to the dead-letter topic.
 */
@ApplicationScoped
public class JobConsumers {
  private static final Logger LOG = Logger.getLogger(JobConsumers.class);

  @Inject JobRunner runner;

  @Incoming("job-commands")
  @Blocking("training-jobs")
  public void onCommand(ConsumerRecord<String, String> record) {
    PlatformEvent event = EventCodec.decode(record.value());
    if (event instanceof JobSubmitted job) {
      LOG.infof("running job %s (%s) for %s", job.aggregateId(), job.spec().method(), job.tenant());
      runner.run(job, record.partition());
    }
  }
}
