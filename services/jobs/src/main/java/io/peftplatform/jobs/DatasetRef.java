package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** What this service knows of a dataset, from DatasetChanged events. */
@Entity
@Table(name = "dataset_refs")
public class DatasetRef extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(nullable = false)
  public String status;

  public String format;

  @Column(nullable = false)
  public long rows;

  /** JSON ObjectRef. */
  @Column(columnDefinition = "TEXT")
  public String file;

  @Column(name = "updated_at", nullable = false)
  public Instant updatedAt;
}
