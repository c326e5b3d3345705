package io.peftplatform.events;

import java.time.Instant;

/** A merge stopped on request, having taken {@code step} steps (0 if it never started); nothing is registered. */
public record MergeCancelled(String eventId, Instant time, String aggregateId, String tenant, int step) implements PlatformEvent {}
