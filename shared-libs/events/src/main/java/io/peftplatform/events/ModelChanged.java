package io.peftplatform.events;

import java.time.Instant;
import java.util.List;

/**
 * A base model was registered or its status changed.
 *
 * @param status validating, ready or failed
 * @param files the model directory's files (empty until ready)
 */
public record ModelChanged(String eventId, Instant time, String aggregateId, String tenant, String name,
    String status, String architecture, List<ObjectRef> files, String error) implements PlatformEvent {
  public ModelChanged {
    files = List.copyOf(files);
  }
}
