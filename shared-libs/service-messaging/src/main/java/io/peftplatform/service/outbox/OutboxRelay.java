package io.peftplatform.service.outbox;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Publishes the outbox in sequence order: locks a batch of unpublished rows (SKIP LOCKED, so replicas of
 * a service never publish the same row at once), sends each with its aggregate id as the key, waits for
 * the broker's acknowledgement and marks the row published in the same transaction. A crash between
 * send and commit republishes the row: delivery is at least once, and consumers drop duplicates by
 * event id.
 */
@ApplicationScoped
public class OutboxRelay {
  private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

  @Inject EntityManager em;

  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @ConfigProperty(name = "peft.outbox.batch-size", defaultValue = "200")
  int batchSize;

  private KafkaProducer<String, String> producer;

  synchronized KafkaProducer<String, String> producer() {
    if (producer == null) {
      producer = new KafkaProducer<>(Map.of(
          ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
          ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
          ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000,
          ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
          ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000), new StringSerializer(), new StringSerializer());
    }
    return producer;
  }

  @Scheduled(every = "${peft.outbox.poll-interval:0.2s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void relay() {
    try {
      while (publishBatch() == batchSize) {
        // keep going while full batches come back
      }
    } catch (RuntimeException e) {
      LOG.warnf("outbox relay: %s (will retry)", e.getMessage());
    }
  }

  /** Publishes one batch; returns how many rows it published. */
  @Transactional
  public int publishBatch() {
    List<OutboxEvent> rows = em.createQuery("FROM OutboxEvent WHERE publishedAt IS NULL ORDER BY seq", OutboxEvent.class)
        .setMaxResults(batchSize)
        .setLockMode(LockModeType.PESSIMISTIC_WRITE)
        .setHint("jakarta.persistence.lock.timeout", -2) // SKIP LOCKED
        .getResultList();
    if (rows.isEmpty()) {
      return 0;
    }
    var sends = rows.stream()
        .map(r -> producer().send(new ProducerRecord<>(r.topic, r.aggregateId, r.payload)))
        .toList();
    Instant now = Instant.now();
    for (int i = 0; i < rows.size(); i++) {
      try {
        sends.get(i).get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("publishing " + rows.get(i).type + " " + rows.get(i).eventId + " failed: " + e.getMessage(), e);
      }
      rows.get(i).publishedAt = now;
    }
    return rows.size();
  }

  void stop(@Observes ShutdownEvent e) {
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
