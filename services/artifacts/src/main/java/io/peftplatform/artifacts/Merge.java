package io.peftplatform.artifacts;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A request to merge adapters of one base model (by fixed weights, or by coefficients learned on
 * calibration texts), or whole models from a mergekit configuration, and how it ended.
 */
@Entity
@Table(name = "merges")
public class Merge extends PanacheEntityBase {
  public static final String QUEUED = "queued";
  /** A learned merge whose worker has reported a step. */
  public static final String RUNNING = "running";
  public static final String SUCCEEDED = "succeeded";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";

  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(nullable = false)
  public String status;

  @Column(name = "model_id", nullable = false)
  public String modelId;

  /** JSON [{id, weight}] in merge order; a learned merge's [{id, calibration_file}] (Expert Merging) or [{id}]. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String adapters;

  @Column(nullable = false)
  public String method;

  @Column(nullable = false)
  public double density;

  @Column(nullable = false)
  public long seed;

  /** model or adapter. */
  @Column(name = "output_type", nullable = false)
  public String outputType;

  /** The LoRA rank of an adapter output. */
  @Column(name = "lora_rank")
  public Integer rank;

  /** The id the output is registered under once the merge succeeds. */
  @Column(name = "output_id", nullable = false)
  public String outputId;

  /** A whole-model merge's mergekit configuration (YAML or JSON text); null for an adapter merge. */
  @Column(columnDefinition = "TEXT")
  public String config;

  /** A learned merge's settings as the API shows them (JSON); null for other merges. */
  @Column(columnDefinition = "TEXT")
  public String hyperparameters;

  /** AdaMerging's calibration dataset, shared by every adapter. */
  @Column(name = "calibration_file")
  public String calibrationFile;

  /** The last step a worker reported, JSON {step, steps, loss, parts, updated_at}; null before the first. */
  @Column(columnDefinition = "TEXT")
  public String progress;

  @Column(name = "cancel_requested", nullable = false)
  public boolean cancelRequested;

  @Column(name = "error_code")
  public String errorCode;

  @Column(name = "error_message", columnDefinition = "TEXT")
  public String errorMessage;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "finished_at")
  public Instant finishedAt;

  /** Whether the merge has ended: succeeded, failed or cancelled. */
  public boolean finished() {
    return status.equals(SUCCEEDED) || status.equals(FAILED) || status.equals(CANCELLED);
  }
}
