package io.peftplatform.service.outbox;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** An event waiting to be (or already) published, written with the change it announces. */
@Entity
@Table(name = "outbox_events")
public class OutboxEvent extends PanacheEntityBase {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  public Long seq;

  @Column(name = "event_id", nullable = false, unique = true)
  public String eventId;

  @Column(nullable = false)
  public String topic;

  @Column(name = "aggregate_id", nullable = false)
  public String aggregateId;

  @Column(nullable = false)
  public String type;

  @Column(nullable = false, columnDefinition = "TEXT")
  public String payload;

  @Column(name = "created_at", nullable = false)
  public Instant createdAt;

  @Column(name = "published_at")
  public Instant publishedAt;

  /** When the broker refused the row for good; parked rows are not sent again until this is cleared. */
  @Column(name = "parked_at")
  public Instant parkedAt;

  @Column(name = "last_error", columnDefinition = "TEXT")
  public String lastError;

  /** The W3C traceparent of the transaction that wrote the row (null outside a trace); the record carries it on. */
  @Column(length = 64)
  public String traceparent;
}
