package io.peftplatform.events;

import java.time.Instant;

/**
 * Pause a job: a worker running it saves a checkpoint after the current step and stops ({@link JobPaused});
 * the job waits until a {@link JobResumeRequested} and a new {@link JobSubmitted} send it on from there.
 */
public record JobPauseRequested(String eventId, Instant time, String aggregateId, String tenant) implements PlatformEvent {}
