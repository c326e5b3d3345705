package io.peftplatform.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** A real Kafka broker for @QuarkusTest: sets kafka.bootstrap.servers. */
public class KafkaTestResource implements QuarkusTestResourceLifecycleManager {
  @Override
  public Map<String, String> start() {
    return Map.of("kafka.bootstrap.servers", SharedInfra.kafkaBootstrap());
  }

  @Override
  public void stop() {
    // shared by every test class of the JVM; stops with it
  }
}
