package io.peftplatform.jobs;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** One line of a job's event log, as GET /v1/fine_tuning/jobs/{id}/events shows it. */
@Entity
@Table(name = "job_events")
public class JobEventEntry extends PanacheEntityBase {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  public Long seq;

  @Column(nullable = false, unique = true)
  public String id;

  @Column(name = "job_id", nullable = false)
  public String jobId;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(nullable = false)
  public String level;

  @Column(nullable = false)
  public String type;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String message;

  @Column(columnDefinition = "TEXT")
  public String data;
}
