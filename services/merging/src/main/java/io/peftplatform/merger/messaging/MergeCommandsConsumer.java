package io.peftplatform.merger.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.Topics;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import java.time.Instant;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.merger.service.MergeRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads peft.merge-commands, one merge at a time per worker. A message that is not an event fails here
 * and goes to the dead-letter topic (the merge it names failing with the reason); the offset is committed
 * once the merge's outcome is published.
 */
@ApplicationScoped
public class MergeCommandsConsumer {
  @Inject MergeRunner runner;
  @Inject EventPublisher events;
  @Inject EventTracing tracing;

  @Incoming("merge-commands")
  @Blocking
  public void consume(ConsumerRecord<String, String> record) {
    String payload = record.value();
    PlatformEvent event;
    try {
      event = EventCodec.decode(payload);
    } catch (IllegalArgumentException poison) {
      // The merge it names (if any) fails with the reason instead of staying queued.
      EventCodec.aggregateIdOf(payload).ifPresent(m -> events.offer(Topics.MERGE_EVENTS, new MergeFailed(EventCodec.newId(),
          Instant.now(), m.id(), m.tenant(), "invalid_command", "the merging workers could not read this merge: " + poison.getMessage())));
      throw poison;
    }
    if (event instanceof MergeRequested request) {
      // In the trace of the request that asked for the merge (the command carries it).
      try (Traced command = tracing.consume(record, EventCodec.typeOf(request));
          Traced run = tracing.work("merge", Map.of(EventTracing.MERGE_ID, request.aggregateId(), EventTracing.TENANT, request.tenant()))) {
        runner.run(request);
      }
    }
  }
}
