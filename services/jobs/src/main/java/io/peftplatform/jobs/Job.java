package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A fine-tuning job. Status changes go through {@link #moveTo}, which enforces {@link JobStatus}. */
@Entity
@Table(name = "jobs")
public class Job extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String status;

  @Column(name = "model_id", nullable = false)
  public String modelId;

  @Column(name = "training_file", nullable = false)
  public String trainingFile;

  @Column(name = "validation_file")
  public String validationFile;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String method;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String hyperparameters;

  /** The adapter that trains it: {"type": "lora", "rank": …}. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String adapter;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String spec;

  @Column(nullable = false)
  public long seed;

  public String suffix;

  @Column(columnDefinition = "TEXT")
  public String metadata;

  @Column(name = "error_code")
  public String errorCode;

  @Column(name = "error_message", columnDefinition = "TEXT")
  public String errorMessage;

  @Column(name = "error_param")
  public String errorParam;

  @Column(name = "fine_tuned_model")
  public String fineTunedModel;

  @Column(name = "adapter_files", columnDefinition = "TEXT")
  public String adapterFiles;

  @Column(columnDefinition = "TEXT")
  public String result;

  @Column(name = "cancel_requested", nullable = false)
  public boolean cancelRequested;

  /** A pause was asked of its worker, which has not confirmed it yet. */
  @Column(name = "pause_requested", nullable = false)
  public boolean pauseRequested;

  public String worker;

  @Column(name = "total_steps")
  public Integer totalSteps;

  @Column(name = "trained_steps", nullable = false)
  public int trainedSteps;

  /** When its JobSubmitted went to the workers; null while it waits for a slot of the tenant's. */
  @Column(name = "dispatched_at")
  public Instant dispatchedAt;

  /** When its worker last reported (any event, heartbeats included). */
  @Column(name = "last_report_at")
  public Instant lastReportAt;

  /** When its worker was found to have stopped reporting; null while it reports. */
  @Column(name = "stalled_at")
  public Instant stalledAt;

  /** The run of the job its worker reported last (1 for the first). */
  @Column(nullable = false)
  public int attempt;

  /** The trace of the request that created it (W3C traceparent; null outside one): its command carries it on. */
  @Column(length = 64)
  public String traceparent;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "started_at")
  public Instant startedAt;

  @Column(name = "finished_at")
  public Instant finishedAt;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;

  public JobStatus state() {
    return JobStatus.parse(status);
  }

  /** Moves to {@code next} if the lifecycle allows it; returns whether it did. */
  public boolean moveTo(JobStatus next) {
    if (!state().canBecome(next)) {
      return false;
    }
    status = next.wire();
    updatedAt = Instant.now();
    if (next.terminal()) {
      finishedAt = updatedAt;
    }
    return true;
  }
}
