package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** What this service knows of a base model, from ModelChanged events. */
@Entity
@Table(name = "model_refs")
public class ModelRef extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(nullable = false)
  public String status;

  public String architecture;

  /** JSON [ObjectRef]. */
  @Column(nullable = false, columnDefinition = "TEXT")
  public String files;

  @Column(columnDefinition = "TEXT")
  public String error;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;
}
