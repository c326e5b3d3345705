package io.peftplatform.events;

import java.time.Instant;
import java.util.List;

/** A resumable checkpoint of a job is in the bucket under {@code prefix}. */
public record CheckpointSaved(String eventId, Instant time, String aggregateId, String tenant, int step,
    String prefix, List<ObjectRef> files, Double validationLoss) implements PlatformEvent {
  public CheckpointSaved {
    files = List.copyOf(files);
  }
}
