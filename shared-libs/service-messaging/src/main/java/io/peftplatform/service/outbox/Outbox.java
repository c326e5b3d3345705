package io.peftplatform.service.outbox;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.service.tracing.EventTracing;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Instant;

/**
 * Adds events to the outbox inside the caller's transaction, with the caller's trace; {@link OutboxRelay}
 * publishes them.
 */
@ApplicationScoped
public class Outbox {
  @Inject EventTracing tracing;
  @Inject jakarta.enterprise.event.Event<Written> written;

  /** Fired with every row added; {@link OutboxRelay} sends the rows once their transaction has committed. */
  public record Written() {}

  @Transactional(Transactional.TxType.MANDATORY)
  public void add(String topic, PlatformEvent event) {
    add(topic, event, tracing.currentTraceparent());
  }

  /** {@link #add(String, PlatformEvent)} in a trace of the caller's choosing (one kept from an earlier request; null: none). */
  @Transactional(Transactional.TxType.MANDATORY)
  public void add(String topic, PlatformEvent event, String traceparent) {
    OutboxEvent row = new OutboxEvent();
    row.eventId = event.eventId();
    row.topic = topic;
    row.aggregateId = event.aggregateId();
    row.type = EventCodec.typeOf(event);
    row.payload = EventCodec.encode(event);
    row.createdAt = Instant.now();
    row.traceparent = traceparent;
    row.persist();
    written.fire(new Written());
  }
}
