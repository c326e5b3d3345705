package io.peftplatform.events;

import java.time.Instant;

/** Stop a merge: a worker running it stops after the current step; one that has not started it skips it. */
public record MergeCancelRequested(String eventId, Instant time, String aggregateId, String tenant) implements PlatformEvent {}
