package io.peftplatform.service.kafka;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * A compacted control topic (peft.job-control, peft.merge-control) read from its start, on its own
 * thread and without a consumer group: every worker must see every request. Work about to start first
 * waits until the reader has caught up with the topic's end ({@link #awaitCaughtUp}), so a request sent
 * before the work was picked up is never missed. A broker that is away ends a reading session; the next
 * starts over from the beginning, with backoff.
 *
 * <p>A waiter wakes the reader out of its poll, and the topic's end is asked for on a connection of its
 * own (an admin client): the consumer's connection may hold a fetch that waits up to half a second at the
 * broker for records, and a request behind it on that connection waits too.
 */
public final class ControlTopic {
  private static final Logger LOG = Logger.getLogger(ControlTopic.class);

  private final String bootstrap;
  private final String topic;
  private final Consumer<PlatformEvent> handler;
  private final ConcurrentLinkedQueue<CompletableFuture<Void>> waiting = new ConcurrentLinkedQueue<>();
  /** The waiters being served: the reader thread's own, kept across sessions. */
  private final List<CompletableFuture<Void>> round = new ArrayList<>();
  private volatile boolean running = true;
  private volatile KafkaConsumer<String, String> consumer;
  private Thread thread;

  /** @param handler sees every event of the topic, in order, on the reader's thread */
  public ControlTopic(String bootstrap, String topic, Consumer<PlatformEvent> handler) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.handler = handler;
  }

  public void start() {
    thread = new Thread(this::readForever, topic + "-reader");
    thread.setDaemon(true);
    thread.start();
  }

  public void stop() {
    running = false;
    KafkaConsumer<String, String> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  /** Blocks until every request published before this call has been seen (false on timeout). */
  public boolean awaitCaughtUp(Duration timeout) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    waiting.add(done);
    KafkaConsumer<String, String> c = consumer;
    if (c != null) {
      c.wakeup(); // out of its poll now, rather than when the poll's time is up
    }
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return false;
    }
  }

  private void readForever() {
    long backoff = 500;
    while (running) {
      try {
        readSession();
      } catch (WakeupException | InterruptedException stopping) {
        return;
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        LOG.warnf("reading %s: %s; trying again in %d ms", topic, e.getMessage(), backoff);
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException stopping) {
          return;
        }
        backoff = Math.min(backoff * 2, 15_000);
      }
    }
  }

  /** One consumer, from the topic's start, until it fails or the worker stops. */
  private void readSession() throws InterruptedException {
    // Never created by this reader: auto-creation would give it the broker's defaults (several partitions, no
    // compaction) if it came before TopicSetup, which creates it compacted.
    consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false), new StringDeserializer(), new StringDeserializer());
    try (KafkaConsumer<String, String> c = consumer;
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<TopicPartition> partitions = List.of();
      while (running && partitions.isEmpty()) {
        // The topic may not exist yet: whichever service starts first creates it (TopicSetup).
        partitions = awake(() -> c.partitionsFor(topic, Duration.ofSeconds(30))).stream()
            .map(p -> new TopicPartition(topic, p.partition())).toList();
        if (partitions.isEmpty()) {
          Thread.sleep(500);
        }
      }
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> target = round.isEmpty() ? Map.of() : endOffsets(admin, partitions);
      while (running) {
        try {
          // Waiters before the poll: a waiter's wake-up comes straight here, not into another poll's wait.
          if (round.isEmpty() && !waiting.isEmpty()) {
            // The waiters first, then the end: every one of them called before the end was asked for.
            for (CompletableFuture<Void> f; (f = waiting.poll()) != null; ) {
              round.add(f);
            }
            target = endOffsets(admin, partitions);
          }
          if (!round.isEmpty() && caughtUp(c, target)) {
            round.forEach(f -> f.complete(null));
            round.clear();
          }
          for (var record : c.poll(Duration.ofMillis(200))) {
            handle(record.value());
          }
        } catch (WakeupException e) {
          if (!running) {
            throw e;
          }
          // A waiter's wake-up: round on.
        }
      }
    } finally {
      consumer = null;
    }
  }

  /** A call that a waiter's wake-up may interrupt, tried again unless the reader is stopping. */
  private <T> T awake(Supplier<T> call) {
    while (true) {
      try {
        return call.get();
      } catch (WakeupException e) {
        if (!running) {
          throw e;
        }
      }
    }
  }

  private static Map<TopicPartition, Long> endOffsets(Admin admin, List<TopicPartition> partitions) throws InterruptedException {
    try {
      return admin.listOffsets(partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest())))
          .all().get(10, TimeUnit.SECONDS).entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new org.apache.kafka.common.errors.TimeoutException("the end of the topic was not known within 10 s");
    }
  }

  private static boolean caughtUp(KafkaConsumer<String, String> c, Map<TopicPartition, Long> target) {
    for (var e : target.entrySet()) {
      if (c.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void handle(String payload) {
    if (payload == null) {
      return;
    }
    try {
      handler.accept(EventCodec.decode(payload));
    } catch (IllegalArgumentException poison) {
      LOG.warnf("ignored a message on %s that is not an event: %s", topic, poison.getMessage());
    }
  }
}
