package io.peftplatform.testsupport;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Publishes events and awaits them on the shared broker, for tests. */
public final class EventLog {
  private EventLog() {}

  public static void publish(String topic, PlatformEvent event) {
    publishRaw(topic, event.aggregateId(), EventCodec.encode(event));
  }

  /** Publishes any string, poison messages included. */
  public static void publishRaw(String topic, String key, String value) {
    try (var producer = new KafkaProducer<String, String>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafkaBootstrap()),
        new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>(topic, key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish to " + topic + ": " + e.getMessage(), e);
    }
  }

  /** Reads the topic from the start until {@code count} records match, or fails after the timeout. */
  public static List<String> awaitRaw(String topic, Predicate<String> matches, int count, Duration timeout) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafkaBootstrap());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<String> found = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && found.size() < count) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null && matches.test(r.value())) {
            found.add(r.value());
          }
        }
      }
    }
    if (found.size() < count) {
      throw new AssertionError("expected " + count + " matching records on " + topic + " within " + timeout + ", found " + found.size());
    }
    return found;
  }

  /** Awaits events of a type about an aggregate. */
  public static <E extends PlatformEvent> List<E> await(String topic, Class<E> type, String aggregateId, int count, Duration timeout) {
    List<E> out = new ArrayList<>();
    for (String json : awaitRaw(topic, v -> {
      try {
        PlatformEvent e = EventCodec.decode(v);
        return type.isInstance(e) && e.aggregateId().equals(aggregateId);
      } catch (IllegalArgumentException poison) {
        return false;
      }
    }, count, timeout)) {
      out.add(type.cast(EventCodec.decode(json)));
    }
    return out;
  }
}
