package io.peftplatform.worker.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
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
  private KafkaConsumer<String, String> consumer;
  private Thread thread;

  void start(@Observes StartupEvent e) {
    consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringDeserializer(),
        new StringDeserializer());
    thread = new Thread(this::readForever, "job-control-reader");
    thread.setDaemon(true);
    thread.start();
  }

  void stop(@Observes ShutdownEvent e) {
    running = false;
    if (consumer != null) {
      consumer.wakeup();
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

  private void readForever() {
    try (KafkaConsumer<String, String> c = consumer) {
      List<TopicPartition> partitions = List.of();
      while (running && partitions.isEmpty()) {
        // The topic may not exist yet: whichever service starts first creates it.
        partitions = consumer.partitionsFor(Topics.JOB_CONTROL, Duration.ofMinutes(1)).stream()
            .map(p -> new TopicPartition(Topics.JOB_CONTROL, p.partition())).toList();
        if (partitions.isEmpty()) {
          Thread.sleep(500);
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      List<CompletableFuture<Void>> round = new ArrayList<>();
      Map<TopicPartition, Long> target = Map.of();
      while (running) {
        for (var record : consumer.poll(Duration.ofMillis(200))) {
          handle(record.value());
        }
        if (round.isEmpty() && !waiting.isEmpty()) {
          for (CompletableFuture<Void> f; (f = waiting.poll()) != null; ) {
            round.add(f);
          }
          target = consumer.endOffsets(partitions);
        }
        if (!round.isEmpty() && caughtUp(target)) {
          round.forEach(f -> f.complete(null));
          round.clear();
        }
      }
    } catch (WakeupException | InterruptedException stopping) {
      // shutdown
    } catch (RuntimeException e) {
      LOG.errorf(e, "stopped reading %s: cancellations will not reach this worker", Topics.JOB_CONTROL);
    }
  }

  private boolean caughtUp(Map<TopicPartition, Long> target) {
    for (var e : target.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
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
      if (EventCodec.decode(payload) instanceof JobCancelRequested c) {
        cancellations.request(c.aggregateId());
      }
    } catch (IllegalArgumentException poison) {
      LOG.warnf("ignored a control message that is not an event: %s", poison.getMessage());
    }
  }
}
