package io.peftplatform.events;

import java.time.Instant;

/**
 * A worker began (or, after a restart, resumed) a job.
 *
 * @param resumedFromStep the checkpoint's step when resuming, 0 when starting afresh
 * @param attempt which run of the job this is (1 for the first; each worker that takes it up adds one)
 */
public record JobStarted(String eventId, Instant time, String aggregateId, String tenant, String worker,
    int totalSteps, long trainingExamples, int resumedFromStep, int attempt) implements PlatformEvent {}
