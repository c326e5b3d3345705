package io.peftplatform.events;

import java.time.Instant;

/** A paused job goes on: the pause no longer holds (on the compacted control topic, it replaces the pause). */
public record JobResumeRequested(String eventId, Instant time, String aggregateId, String tenant) implements PlatformEvent {}
