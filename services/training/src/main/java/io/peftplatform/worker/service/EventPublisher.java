package io.peftplatform.worker.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
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
 * Publishes a worker's job events, keyed by job id, waiting for the broker's acknowledgement. A worker
 * keeps no database, so there is no outbox: an event is sent before the step that follows it, and a
 * redelivered job re-sends what it repeats (consumers drop duplicates by event id).
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

  public void publish(PlatformEvent event) {
    publishEncoded(event.aggregateId(), EventCodec.encode(event));
  }

  /** An event already in its JSON form, keyed by its job id. */
  public void publishEncoded(String jobId, String json) {
    try {
      producer().send(new ProducerRecord<>(Topics.JOB_EVENTS, jobId, json)).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing an event of job " + jobId, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish an event of job " + jobId + ": " + e.getMessage(), e);
    }
  }

  void stop(@Observes ShutdownEvent e) {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
