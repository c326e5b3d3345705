package io.peftplatform.events;

import java.time.Instant;

/** A worker paused a job on request after stepsDone steps, with a checkpoint at that step to resume from. */
public record JobPaused(String eventId, Instant time, String aggregateId, String tenant, int stepsDone) implements PlatformEvent {}
