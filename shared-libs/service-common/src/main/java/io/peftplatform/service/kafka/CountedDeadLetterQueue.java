package io.peftplatform.service.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.IncomingKafkaRecord;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.fault.KafkaFailureHandler;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.BiConsumer;
import org.eclipse.microprofile.reactive.messaging.Metadata;

/**
 * SmallRye's dead-letter queue, counted: {@code failure-strategy=counted-dead-letter-queue} on a channel
 * sends what cannot be processed to its {@code dead-letter-queue.topic} exactly as {@code dead-letter-queue}
 * does (it is that handler), and counts each record in {@code peft_dead_letters_total{topic, channel}} —
 * a dead-letter topic that grows is something an operator must see (the platform's alert rules fire on it).
 */
@ApplicationScoped
@Identifier(CountedDeadLetterQueue.STRATEGY)
public class CountedDeadLetterQueue implements KafkaFailureHandler.Factory {
  public static final String STRATEGY = "counted-dead-letter-queue";

  @Inject
  @Identifier(KafkaFailureHandler.Strategy.DEAD_LETTER_QUEUE)
  KafkaFailureHandler.Factory deadLetterQueue;

  @Inject MeterRegistry registry;

  @Override
  public KafkaFailureHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx, KafkaConsumer<?, ?> consumer,
      BiConsumer<Throwable, Boolean> reportFailure) {
    KafkaFailureHandler handler = deadLetterQueue.create(config, vertx, consumer, reportFailure);
    String topic = config.getDeadLetterQueueTopic().orElse("dead-letter-topic-" + config.getChannel()); // SmallRye's default name
    Counter sent = Counter.builder("peft.dead.letters").tag("topic", topic).tag("channel", config.getChannel())
        .description("Records sent to a dead-letter topic").register(registry);
    return new KafkaFailureHandler() {
      @Override
      public <K, V> Uni<Void> handle(IncomingKafkaRecord<K, V> record, Throwable reason, Metadata metadata) {
        sent.increment();
        return handler.handle(record, reason, metadata);
      }

      @Override
      public void terminate() {
        handler.terminate();
      }
    };
  }
}
