-- The trace of the request that created a job (W3C traceparent): its command goes to the workers in that
-- trace even when it is sent later (after its model's validation, or when a slot of its tenant frees).
ALTER TABLE jobs ADD COLUMN traceparent VARCHAR(64);
