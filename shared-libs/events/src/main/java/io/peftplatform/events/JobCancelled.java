package io.peftplatform.events;

import java.time.Instant;

/** A worker stopped a job on request; stepsDone steps had run. */
public record JobCancelled(String eventId, Instant time, String aggregateId, String tenant, int stepsDone)
    implements PlatformEvent {}
