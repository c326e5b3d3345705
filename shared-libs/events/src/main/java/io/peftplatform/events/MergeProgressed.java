package io.peftplatform.events;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A learned merge's step: the loss it minimises and its parts (Expert Merging: logits, hidden, pull;
 * AdaMerging: entropy). Sent every few seconds, not every step.
 *
 * @param resumedFrom the step this run took up from the state an earlier attempt saved; 0 from the start
 */
public record MergeProgressed(String eventId, Instant time, String aggregateId, String tenant, int step, int steps, double loss,
    Map<String, Double> parts, int resumedFrom) implements PlatformEvent {
  public MergeProgressed {
    parts = parts == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(parts));
  }
}
