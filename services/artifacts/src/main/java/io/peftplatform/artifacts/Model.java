package io.peftplatform.artifacts;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A registered base model: its bytes are in the bucket once ready. */
@Entity
@Table(name = "models")
public class Model extends PanacheEntityBase {
  public static final String VALIDATING = "validating";
  public static final String READY = "ready";
  public static final String FAILED = "failed";

  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(nullable = false)
  public String status;

  @Column(nullable = false)
  public String source;

  public String architecture;

  public Long parameters;

  /** JSON list of ObjectRef. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String files;

  @Column(name = "error_code")
  public String errorCode;

  @Column(name = "error_message", columnDefinition = "TEXT")
  public String errorMessage;

  /** Until when the replica validating it holds it (validating only); later, it is taken over. */
  @Column(name = "processing_until")
  public Instant processingUntil;

  /** How many times validation has started. */
  @Column(nullable = false)
  public int attempts;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;
}
