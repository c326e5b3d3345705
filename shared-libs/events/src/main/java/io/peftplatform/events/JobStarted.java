package io.peftplatform.events;

import java.time.Instant;

/**
 * A worker began (or, after a restart, resumed) a job.
 *
 * @param resumedFromStep the checkpoint's step when resuming, 0 when starting afresh
 */
public record JobStarted(String eventId, Instant time, String aggregateId, String tenant, String worker,
    int totalSteps, long trainingExamples, int resumedFromStep) implements PlatformEvent {}
