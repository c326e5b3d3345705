package io.peftplatform.worker.messaging;

import io.peftplatform.worker.service.Cancellations;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * When the group moves a job-commands partition away from this worker (a worker joined or left), the job
 * running from it stops after its current step: the partition's new owner runs the command again and
 * resumes from the job's last checkpoint, so a job never runs on two workers for more than a step.
 */
@ApplicationScoped
@Identifier("job-commands-rebalance")
public class JobCommandsRebalance implements KafkaConsumerRebalanceListener {
  private static final Logger LOG = Logger.getLogger(JobCommandsRebalance.class);

  @Inject Cancellations cancellations;

  @Override
  public void onPartitionsRevoked(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    if (!partitions.isEmpty()) {
      Set<Integer> revoked = partitions.stream().map(TopicPartition::partition).collect(Collectors.toSet());
      LOG.infof("job-commands partitions %s moved away from this worker", revoked);
      cancellations.preempt(revoked);
    }
  }

  @Override
  public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    onPartitionsRevoked(consumer, partitions);
  }
}
