package io.peftplatform.artifacts;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A validated JSONL training or validation file. */
@Entity
@Table(name = "datasets")
public class Dataset extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(nullable = false)
  public String status;

  @Column(nullable = false)
  public String format;

  @Column(nullable = false)
  public long rows;

  @Column(name = "token_estimate", nullable = false)
  public long tokenEstimate;

  @Column(name = "object_key", nullable = false)
  public String objectKey;

  @Column(nullable = false)
  public String sha256;

  @Column(nullable = false)
  public long bytes;

  /** JSON: the first records as uploaded. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String preview;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;
}
