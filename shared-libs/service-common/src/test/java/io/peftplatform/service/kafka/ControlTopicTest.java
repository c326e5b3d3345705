package io.peftplatform.service.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.testsupport.SharedInfra;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A control topic's reader on a real broker: a waiter returns only once every request sent before it has been seen. */
class ControlTopicTest {
  private final String bootstrap = SharedInfra.kafkaBootstrap();

  @Test
  void aWaiterReturnsOnlyAfterEveryRequestSentBeforeItWasSeen() throws Exception {
    String topic = "control-test-" + System.nanoTime();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
    }
    List<String> seen = new CopyOnWriteArrayList<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
        new StringSerializer(), new StringSerializer())) {
      send(producer, topic, "job-before-start");
      ControlTopic reader = new ControlTopic(bootstrap, topic, (PlatformEvent e) -> seen.add(e.aggregateId()));
      reader.start();
      try {
        assertThat(reader.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
        assertThat(seen).containsExactly("job-before-start");
        // Each request is sent while the reader sits in a poll (or a fetch waits at the broker): the waiter that
        // follows wakes it and must still see the request.
        for (int i = 0; i < 20; i++) {
          send(producer, topic, "job-" + i);
          assertThat(reader.awaitCaughtUp(Duration.ofSeconds(30))).as("round %d", i).isTrue();
          assertThat(seen).as("round %d", i).contains("job-" + i);
          if (i % 5 == 0) {
            Thread.sleep(300); // an idle reader, its fetch parked at the broker
          }
        }
        // Nothing new: a waiter on an idle topic returns too.
        assertThat(reader.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
      } finally {
        reader.stop();
      }
      // stop() ends the reader (a wake-up no longer means "stop" alone).
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (readerAlive(topic) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(readerAlive(topic)).isFalse();
    }
  }

  private static boolean readerAlive(String topic) {
    return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(topic + "-reader"));
  }

  private static void send(KafkaProducer<String, String> producer, String topic, String job) throws Exception {
    producer.send(new ProducerRecord<>(topic, job, EventCodec.encode(new JobCancelRequested(EventCodec.newId(), Instant.now(), job, "t")))).get();
  }
}
