package io.peftplatform.service.outbox;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;

/** Adds events to the outbox inside the caller's transaction; {@link OutboxRelay} publishes them. */
@ApplicationScoped
public class Outbox {
  @Transactional(Transactional.TxType.MANDATORY)
  public void add(String topic, PlatformEvent event) {
    OutboxEvent row = new OutboxEvent();
    row.eventId = event.eventId();
    row.topic = topic;
    row.aggregateId = event.aggregateId();
    row.type = EventCodec.typeOf(event);
    row.payload = EventCodec.encode(event);
    row.createdAt = Instant.now();
    row.persist();
  }
}
