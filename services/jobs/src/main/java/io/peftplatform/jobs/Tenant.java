package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A tenant: owns models, datasets, jobs and adapters, which other tenants cannot see. */
@Entity
@Table(name = "tenants")
public class Tenant extends PanacheEntityBase {
  @Id public String id;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;
}
