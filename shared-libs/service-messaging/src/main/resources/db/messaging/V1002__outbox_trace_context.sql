-- The trace of the change an event announces (W3C traceparent), kept with the row until the relay sends
-- it, so the event's record carries the REST call's trace on to the services that act on it.
ALTER TABLE outbox_events ADD COLUMN traceparent VARCHAR(64);
