package io.peftplatform.service.inbox;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;

/**
 * Makes a consumer idempotent: inside the transaction that applies an event, {@link #firstTime} records
 * its id and says whether it was new. A redelivered event finds its id and is skipped.
 */
@ApplicationScoped
public class Inbox {
  @Transactional(Transactional.TxType.MANDATORY)
  public boolean firstTime(PlatformEvent event) {
    if (ProcessedEvent.findById(event.eventId()) != null) {
      return false;
    }
    ProcessedEvent p = new ProcessedEvent();
    p.eventId = event.eventId();
    p.type = EventCodec.typeOf(event);
    p.processedAt = Instant.now();
    p.persistAndFlush();
    return true;
  }
}
