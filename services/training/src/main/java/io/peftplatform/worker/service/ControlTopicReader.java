package io.peftplatform.worker.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobPauseRequested;
import io.peftplatform.events.JobResumeRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Reads peft.job-control from its start, on its own thread and without a consumer group: every worker
 * must see every cancellation. A job about to start first waits until this reader has caught up with
 * the topic's end, so a cancellation sent before the job was picked up is never missed.
 */
@ApplicationScoped
public class ControlTopicReader {
  private static final Logger LOG = Logger.getLogger(ControlTopicReader.class);

  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  @Inject Cancellations cancellations;

  private final ConcurrentLinkedQueue<CompletableFuture<Void>> waiting = new ConcurrentLinkedQueue<>();
  private volatile boolean running = true;
  private volatile KafkaConsumer<String, String> consumer;
  /** The waiters being served: the reader thread's own, kept across sessions. */
  private final List<CompletableFuture<Void>> round = new ArrayList<>();
  private Thread thread;

  void start(@Observes StartupEvent e) {
    thread = new Thread(this::readForever, "job-control-reader");
    thread.setDaemon(true);
    thread.start();
  }

  void stop(@Observes ShutdownEvent e) {
    running = false;
    KafkaConsumer<String, String> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  /** Blocks until every cancellation published before this call has been seen (false on timeout). */
  public boolean awaitCaughtUp(Duration timeout) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    waiting.add(done);
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

  /** Reads in sessions: a broker that is away (at start or later) ends one, and the next starts over. */
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
        LOG.warnf("reading %s: %s; trying again in %d ms", Topics.JOB_CONTROL, e.getMessage(), backoff);
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
    consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringDeserializer(),
        new StringDeserializer());
    try (KafkaConsumer<String, String> c = consumer) {
      List<TopicPartition> partitions = List.of();
      while (running && partitions.isEmpty()) {
        // The topic may not exist yet: whichever service starts first creates it.
        partitions = c.partitionsFor(Topics.JOB_CONTROL, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(Topics.JOB_CONTROL, p.partition())).toList();
        if (partitions.isEmpty()) {
          Thread.sleep(500);
        }
      }
      c.assign(partitions);
      c.seekToBeginning(partitions);
      Map<TopicPartition, Long> target = round.isEmpty() ? Map.of() : c.endOffsets(partitions, Duration.ofSeconds(10));
      while (running) {
        for (var record : c.poll(Duration.ofMillis(200))) {
          handle(record.value());
        }
        if (round.isEmpty() && !waiting.isEmpty()) {
          for (CompletableFuture<Void> f; (f = waiting.poll()) != null; ) {
            round.add(f);
          }
          target = c.endOffsets(partitions, Duration.ofSeconds(10));
        }
        if (!round.isEmpty() && caughtUp(c, target)) {
          round.forEach(f -> f.complete(null));
          round.clear();
        }
      }
    } finally {
      consumer = null;
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
      PlatformEvent e = EventCodec.decode(payload);
      if (e instanceof JobCancelRequested c) {
        cancellations.request(c.aggregateId());
      } else if (e instanceof JobPauseRequested p) {
        cancellations.requestPause(p.aggregateId());
      } else if (e instanceof JobResumeRequested r) {
        cancellations.resume(r.aggregateId());
      }
    } catch (IllegalArgumentException poison) {
      LOG.warnf("ignored a control message that is not an event: %s", poison.getMessage());
    }
  }
}
