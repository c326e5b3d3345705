-- A row the broker refuses for good (too large, an invalid topic) is parked with the reason instead of
-- blocking every row after it; an operator can look at it and, once fixed, clear parked_at to resend.
ALTER TABLE outbox_events ADD COLUMN parked_at TIMESTAMPTZ;
ALTER TABLE outbox_events ADD COLUMN last_error TEXT;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox_events (seq) WHERE published_at IS NULL AND parked_at IS NULL;
-- The inbox is a window for redeliveries, not a history: old ids are purged.
CREATE INDEX processed_events_age ON processed_events (processed_at);
