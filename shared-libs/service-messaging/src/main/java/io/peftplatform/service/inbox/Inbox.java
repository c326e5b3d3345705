package io.peftplatform.service.inbox;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.PlatformEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;

/**
 * Makes a consumer idempotent: inside the transaction that applies an event, {@link #firstTime} records
 * its id and says whether it was new. A redelivered event finds its id and is skipped. Ids older than
 * {@code peft.inbox.retention} (7 days: far longer than any redelivery) are purged.
 */
@ApplicationScoped
public class Inbox {
  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "peft.inbox.retention", defaultValue = "P7D")
  java.time.Duration retention;

  @io.quarkus.scheduler.Scheduled(every = "1h", delayed = "1m", concurrentExecution = io.quarkus.scheduler.Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void purge() {
    ProcessedEvent.delete("processedAt < ?1", Instant.now().minus(retention));
  }

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
