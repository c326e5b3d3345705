package io.peftplatform.service.kafka;

import io.peftplatform.events.TopicSetup;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
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
    long backoff = 1000;
    while (true) {
      try {
        Thread.sleep(backoff);
        TopicSetup.ensure(bootstrap, partitions, replication);
        LOG.info("the platform's topics are in place");
        return;
      } catch (InterruptedException stop) {
        return;
      } catch (IllegalStateException away) {
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }
}
