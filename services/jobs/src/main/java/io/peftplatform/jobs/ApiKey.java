package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** An API key (stored as its SHA-256); admin keys may create keys for any tenant. */
@Entity
@Table(name = "api_keys")
public class ApiKey extends PanacheEntityBase {
  @Id public String id;

  @Column(nullable = false)
  public String tenant;

  @Column(nullable = false)
  public String name;

  @Column(name = "key_hash", nullable = false, unique = true)
  public String keyHash;

  @Column(nullable = false)
  public boolean admin;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;
}
