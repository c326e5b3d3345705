package io.peftplatform.jobs;

import java.util.EnumSet;
import java.util.Set;

/**
 * A job's lifecycle. A job waits in {@code validating_files} until its model and files are ready, is
 * {@code queued} for a worker, {@code running} once one starts it, and ends {@code succeeded},
 * {@code failed} or {@code cancelled}; a running job may be {@code paused} (its worker checkpointed and
 * stopped) and queued again when resumed. Terminal states never change; anything else is refused.
 */
public enum JobStatus {
  VALIDATING_FILES,
  QUEUED,
  RUNNING,
  PAUSED,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public String wire() {
    return name().toLowerCase();
  }

  public static JobStatus parse(String s) {
    return valueOf(s.toUpperCase());
  }

  public boolean terminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }

  /**
   * Whether this status may become {@code next}; running → running is a worker resuming, running → queued
   * a job whose worker stopped reporting, waiting to be taken over.
   */
  public boolean canBecome(JobStatus next) {
    Set<JobStatus> allowed = switch (this) {
      case VALIDATING_FILES -> EnumSet.of(QUEUED, FAILED, CANCELLED);
      case QUEUED -> EnumSet.of(RUNNING, PAUSED, FAILED, CANCELLED); // paused: a stalled job's worker confirming a pause
      case RUNNING -> EnumSet.of(RUNNING, QUEUED, PAUSED, SUCCEEDED, FAILED, CANCELLED);
      case PAUSED -> EnumSet.of(QUEUED, FAILED, CANCELLED);
      case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(JobStatus.class);
    };
    return allowed.contains(next);
  }
}
