package io.peftplatform.events;

/**
 * Kafka topics. The key of every record is the aggregate's id (the job, model, dataset or adapter), so
 * one aggregate's events stay in order. Each consumer also has a dead-letter topic: the topic's name
 * with {@link #DEAD_LETTER_SUFFIX}.
 */
public final class Topics {
  /** {@link JobSubmitted}: jobs → training workers (one consumer group: each job runs on one worker). */
  public static final String JOB_COMMANDS = "peft.job-commands";

  /**
   * {@link JobCancelRequested}, {@link JobPauseRequested}, {@link JobResumeRequested}: jobs → every training worker (each reads it all, from the start; the
   * topic is compacted by job id, so it stays small).
   */
  public static final String JOB_CONTROL = "peft.job-control";

  /**
   * {@link JobStarted}, {@link TrainingProgressed}, {@link JobHeartbeat}, {@link CheckpointSaved}, {@link JobSucceeded},
   * {@link JobFailed}, {@link JobCancelled}, {@link JobPaused}: training workers → jobs (status, events), artifacts (the
   * adapter of a succeeded job).
   */
  public static final String JOB_EVENTS = "peft.job-events";

  /** {@link ModelChanged}, {@link DatasetChanged}, {@link ArtifactDeleted}: artifacts → jobs. */
  public static final String ARTIFACT_EVENTS = "peft.artifact-events";

  /** {@link MergeRequested}: artifacts → merging workers (one consumer group: each merge runs once). */
  public static final String MERGE_COMMANDS = "peft.merge-commands";

  /**
   * {@link MergeProgressed}, {@link MergeSucceeded}, {@link MergeFailed}, {@link MergeCancelled}: merging workers → artifacts
   * (progress, the output registered, or why not).
   */
  public static final String MERGE_EVENTS = "peft.merge-events";

  /** {@link MergeCancelRequested}: artifacts → every merging worker (each reads it all, from the start; compacted by merge id). */
  public static final String MERGE_CONTROL = "peft.merge-control";

  public static final String DEAD_LETTER_SUFFIX = ".dlq";

  private Topics() {}
}
