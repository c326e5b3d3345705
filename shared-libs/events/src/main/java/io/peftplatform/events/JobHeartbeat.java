package io.peftplatform.events;

import java.time.Instant;

/**
 * A worker still runs the job: sent every few seconds from its start (downloads and tokenizing included)
 * to its end, so the jobs service can tell a job whose worker stopped reporting. Not part of the job's
 * event log.
 *
 * @param phase what the worker is doing: preparing, training, finishing
 * @param step the last step done (0 before training)
 */
public record JobHeartbeat(String eventId, Instant time, String aggregateId, String tenant, String worker, String phase,
    int step) implements PlatformEvent {}
