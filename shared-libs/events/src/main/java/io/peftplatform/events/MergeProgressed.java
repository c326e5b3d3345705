package io.peftplatform.events;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A learned merge's step: the loss it minimises and its parts (Expert Merging: logits, hidden, pull;
 * AdaMerging: entropy). Sent every few seconds, not every step.
 */
public record MergeProgressed(String eventId, Instant time, String aggregateId, String tenant, int step, int steps, double loss,
    Map<String, Double> parts) implements PlatformEvent {
  public MergeProgressed {
    parts = parts == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(parts));
  }
}
