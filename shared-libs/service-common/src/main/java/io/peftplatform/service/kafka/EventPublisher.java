package io.peftplatform.service.kafka;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Publishes events keyed by their aggregate id, waiting for the broker's acknowledgement: for workers,
 * which keep no database and so no outbox. An event is sent before the step that follows it, and a
 * redelivered command re-sends what it repeats (consumers drop duplicates by event id).
 */
@ApplicationScoped
public class EventPublisher {
  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  private KafkaProducer<String, String> producer;

  private synchronized KafkaProducer<String, String> producer() {
    if (producer == null) {
      producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000),
          new StringSerializer(), new StringSerializer());
    }
    return producer;
  }

  public void publish(String topic, PlatformEvent event) {
    publishEncoded(topic, event.aggregateId(), EventCodec.encode(event));
  }

  /** An event already in its JSON form, keyed by its aggregate's id. */
  public void publishEncoded(String topic, String aggregateId, String json) {
    try {
      producer().send(new ProducerRecord<>(topic, aggregateId, json)).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing an event of " + aggregateId, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish an event of " + aggregateId + " to " + topic + ": " + e.getMessage(), e);
    }
  }

  void stop(@Observes ShutdownEvent e) {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
