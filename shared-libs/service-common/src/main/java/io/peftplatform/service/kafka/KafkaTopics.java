package io.peftplatform.service.kafka;

import io.peftplatform.events.TopicSetup;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Creates the platform's topics at startup when they are missing (the local stack and tests). */
@ApplicationScoped
public class KafkaTopics {
  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @ConfigProperty(name = "peft.kafka.partitions", defaultValue = "3")
  int partitions;

  @ConfigProperty(name = "peft.kafka.replication", defaultValue = "1")
  short replication;

  @ConfigProperty(name = "peft.kafka.create-topics", defaultValue = "true")
  boolean create;

  void onStart(@Observes StartupEvent e) {
    if (create) {
      TopicSetup.ensure(bootstrap, partitions, replication);
    }
  }
}
