package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A resumable checkpoint a worker saved. */
@Entity
@Table(name = "job_checkpoints")
public class JobCheckpoint extends PanacheEntityBase {
  @Id public String id;

  @Column(name = "job_id", nullable = false)
  public String jobId;

  @Column(nullable = false)
  public int step;

  @Column(nullable = false)
  public String prefix;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String files;

  @Column(name = "validation_loss")
  public Double validationLoss;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;
}
