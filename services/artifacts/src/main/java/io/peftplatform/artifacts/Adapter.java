package io.peftplatform.artifacts;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A trained adapter and where it came from. */
@Entity
@Table(name = "adapters")
public class Adapter extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  /** The job that trained it; null for the output of a merge. */
  @Column(name = "job_id", unique = true)
  public String jobId;

  /** The merge that made it; null for a trained adapter. */
  @Column(name = "merge_id", unique = true)
  public String mergeId;

  @Column(name = "model_id", nullable = false)
  public String modelId;

  @Column(nullable = false)
  public String method;

  @Column(nullable = false)
  public long parameters;

  /** JSON list of ObjectRef. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String files;

  /** JSON map of metrics. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String metrics;

  /** JSON: the training provenance (base model and data checksums, configuration, seed, history). */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String lineage;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  /** The adapter of a job: one per job, so a redelivered JobSucceeded finds the same id. */
  public static String idForJob(String jobId) {
    return "adapter-" + jobId.substring(jobId.indexOf('-') + 1);
  }
}
