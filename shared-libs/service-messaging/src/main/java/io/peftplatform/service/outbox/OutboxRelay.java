package io.peftplatform.service.outbox;

import io.opentelemetry.api.trace.Span;
import io.peftplatform.service.tracing.EventTracing;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
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
 * event id. A row the broker refuses for good (larger than it accepts, an invalid topic) is parked with
 * the reason and logged as an error, so it never holds up the rows after it; a broker that is away
 * stops the batch, which is tried again.
 *
 * <p>The relay runs as soon as a transaction that added rows commits (on its own thread, so the request
 * does not wait for the broker), and every second besides (the scheduler's finest interval) for rows left
 * by a broker that was away or by another process. One relay at a time per process, so rows leave in order.
 */
@ApplicationScoped
public class OutboxRelay {
  private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

  @Inject EntityManager em;
  @Inject EventTracing tracing;

  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @ConfigProperty(name = "peft.outbox.batch-size", defaultValue = "200")
  int batchSize;

  private KafkaProducer<String, String> producer;
  private final ReentrantLock relaying = new ReentrantLock();
  private final AtomicBoolean again = new AtomicBoolean();
  private final ExecutorService waker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "outbox-relay");
    t.setDaemon(true);
    return t;
  });

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

  /** Rows were added and their transaction committed: send them now rather than at the next poll. */
  void onWritten(@Observes(during = TransactionPhase.AFTER_SUCCESS) Outbox.Written written) {
    try {
      waker.execute(this::relay);
    } catch (RejectedExecutionException stopping) {
      // shutting down: the next start sends them
    }
  }

  @Scheduled(every = "${peft.outbox.poll-interval:1s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void relay() {
    if (!relaying.tryLock()) {
      again.set(true); // the running relay goes round once more
      return;
    }
    try {
      do {
        again.set(false);
        while (publishBatch() == batchSize) {
          // keep going while full batches come back
        }
      } while (again.get());
    } catch (RuntimeException e) {
      LOG.warnf("outbox relay: %s (will retry)", e.getMessage());
    } finally {
      relaying.unlock();
    }
    if (again.get()) {
      onWritten(null); // asked for while this one was finishing
    }
  }

  /** Publishes one batch; returns how many rows it published. */
  @Transactional
  public int publishBatch() {
    List<OutboxEvent> rows = em.createQuery("FROM OutboxEvent WHERE publishedAt IS NULL AND parkedAt IS NULL ORDER BY seq",
            OutboxEvent.class)
        .setMaxResults(batchSize)
        .setLockMode(LockModeType.PESSIMISTIC_WRITE)
        .setHint("jakarta.persistence.lock.timeout", -2) // SKIP LOCKED
        .getResultList();
    if (rows.isEmpty()) {
      return 0;
    }
    List<java.util.concurrent.Future<?>> sends = new java.util.ArrayList<>();
    Span[] spans = new Span[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      OutboxEvent r = rows.get(i);
      ProducerRecord<String, String> record = new ProducerRecord<>(r.topic, r.aggregateId, r.payload);
      // The span of sending runs in the trace of the transaction that wrote the row (the REST call's).
      spans[i] = tracing.startSend(tracing.fromTraceparent(r.traceparent), r.topic, r.aggregateId, () -> r.type, record.headers());
      java.util.concurrent.Future<?> sent;
      try {
        sent = producer().send(record);
      } catch (RuntimeException e) {
        sent = java.util.concurrent.CompletableFuture.failedFuture(e); // e.g. a record larger than the producer takes
      }
      sends.add(sent);
    }
    try {
      return awaitSends(rows, sends, spans);
    } finally {
      for (Span span : spans) {
        EventTracing.sent(span, null); // the rows left for the next batch (ended ones are null)
      }
    }
  }

  private int awaitSends(List<OutboxEvent> rows, List<java.util.concurrent.Future<?>> sends, Span[] spans) {
    Instant now = Instant.now();
    int done = 0;
    for (int i = 0; i < rows.size(); i++) {
      OutboxEvent row = rows.get(i);
      try {
        sends.get(i).get(30, TimeUnit.SECONDS);
        row.publishedAt = now;
        EventTracing.sent(spans[i], null);
        spans[i] = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return done;
      } catch (Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
        EventTracing.sent(spans[i], cause);
        spans[i] = null;
        if (!refusedForGood(cause)) {
          // The broker is away or busy: keep what was sent, try the rest again later, in order.
          LOG.warnf("outbox relay: %s %s not sent yet: %s", row.type, row.eventId, cause.getMessage());
          return done;
        }
        row.parkedAt = now;
        row.lastError = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        LOG.errorf("outbox relay: parked %s %s of %s (row %d, %d bytes): the broker refuses it for good (%s); it is not sent"
            + " until parked_at is cleared", row.type, row.eventId, row.aggregateId, row.seq, row.payload.length(), row.lastError);
      }
      done++;
    }
    return done;
  }

  /** An error the same record would get again (not a broker that is away or busy). */
  static boolean refusedForGood(Throwable t) {
    return t instanceof org.apache.kafka.common.errors.RecordTooLargeException
        || t instanceof org.apache.kafka.common.errors.RecordBatchTooLargeException
        || t instanceof org.apache.kafka.common.InvalidRecordException
        || t instanceof org.apache.kafka.common.errors.InvalidTopicException
        || t instanceof org.apache.kafka.common.errors.SerializationException;
  }

  void stop(@Observes ShutdownEvent e) {
    waker.shutdownNow();
    if (producer != null) {
      producer.close(java.time.Duration.ofSeconds(5));
    }
  }
}
