package io.peftplatform.service.kafka;

import io.peftplatform.events.TopicSetup;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import io.smallrye.faulttolerance.api.Guard;
import java.time.temporal.ChronoUnit;
import org.jboss.logging.Logger;

/**
 * Creates the platform's topics at startup when they are missing (the local stack and tests). A broker
 * that is away at startup does not keep the service from starting: the topics are created in the
 * background once it answers.
 */
@ApplicationScoped
public class KafkaTopics {
  private static final Logger LOG = Logger.getLogger(KafkaTopics.class);

  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @ConfigProperty(name = "peft.kafka.partitions", defaultValue = "3")
  int partitions;

  @ConfigProperty(name = "peft.kafka.replication", defaultValue = "1")
  short replication;

  @ConfigProperty(name = "peft.kafka.create-topics", defaultValue = "true")
  boolean create;

  void onStart(@Observes StartupEvent e) {
    if (!create) {
      return;
    }
    try {
      TopicSetup.ensure(bootstrap, partitions, replication);
    } catch (IllegalStateException away) {
      LOG.warnf("%s; the topics are created once the broker answers", away.getMessage());
      Thread t = new Thread(this::ensureUntilDone, "kafka-topics");
      t.setDaemon(true);
      t.start();
    }
  }

  private void ensureUntilDone() {
    try {
      Guard.create()
          .withRetry().maxRetries(-1).maxDuration(365, ChronoUnit.DAYS).delay(1, ChronoUnit.SECONDS)
          .whenException(e -> e instanceof IllegalStateException)
          .withExponentialBackoff().factor(2).maxDelay(30, ChronoUnit.SECONDS).done()
          .done().build()
          .call(() -> {
            TopicSetup.ensure(bootstrap, partitions, replication);
            return null;
          }, Void.class);
      LOG.info("the platform's topics are in place");
    } catch (Exception e) {
      LOG.warnf("gave up creating the topics: %s", e.getMessage());
    }
  }
}
