-- Shared by every service that keeps state (service-messaging): each service's Flyway runs it in its
-- own database, with locations=db/migration,db/messaging.

-- Transactional outbox: an event is written in the same transaction as the change it announces; the
-- relay publishes rows in sequence order and marks them published.
CREATE TABLE outbox_events (
  seq          BIGSERIAL PRIMARY KEY,
  event_id     VARCHAR(64)  NOT NULL UNIQUE,
  topic        VARCHAR(128) NOT NULL,
  aggregate_id VARCHAR(128) NOT NULL,
  type         VARCHAR(64)  NOT NULL,
  payload      TEXT         NOT NULL,
  created_at   TIMESTAMPTZ  NOT NULL,
  published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox_events (seq) WHERE published_at IS NULL;

-- Inbox: the ids of events a consumer has applied, written with the effect, so a redelivery is a no-op.
CREATE TABLE processed_events (
  event_id     VARCHAR(64) PRIMARY KEY,
  type         VARCHAR(64) NOT NULL,
  processed_at TIMESTAMPTZ NOT NULL
);
