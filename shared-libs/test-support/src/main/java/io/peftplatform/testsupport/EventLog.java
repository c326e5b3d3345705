package io.peftplatform.testsupport;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
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
    List<String> found = collect(topic, matches, count, timeout);
    if (found.size() < count) {
      throw new AssertionError("expected " + count + " matching records on " + topic + " within " + timeout + ", found " + found.size());
    }
    return found;
  }

  /** Every event of a type about an aggregate seen on the topic within the time given (to show one is absent). */
  public static <E extends PlatformEvent> List<E> awaitAll(String topic, Class<E> type, String aggregateId, Duration within) {
    return decode(collect(topic, about(type, aggregateId), Integer.MAX_VALUE, within), type);
  }

  private static List<String> collect(String topic, Predicate<String> matches, int count, Duration timeout) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafkaBootstrap());
    List<String> found = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      // Every partition from its start, without a consumer group (no rebalance to wait for).
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(info -> new TopicPartition(topic, info.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && found.size() < count) {
        for (var r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() != null && matches.test(r.value())) {
            found.add(r.value());
          }
        }
      }
    }
    return found;
  }

  /** Awaits events of a type about an aggregate. */
  public static <E extends PlatformEvent> List<E> await(String topic, Class<E> type, String aggregateId, int count, Duration timeout) {
    return decode(awaitRaw(topic, about(type, aggregateId), count, timeout), type);
  }

  private static Predicate<String> about(Class<? extends PlatformEvent> type, String aggregateId) {
    return v -> {
      try {
        PlatformEvent e = EventCodec.decode(v);
        return type.isInstance(e) && e.aggregateId().equals(aggregateId);
      } catch (IllegalArgumentException poison) {
        return false;
      }
    };
  }

  private static <E extends PlatformEvent> List<E> decode(List<String> records, Class<E> type) {
    List<E> out = new ArrayList<>();
    for (String json : records) {
      out.add(type.cast(EventCodec.decode(json)));
    }
    return out;
  }
}
