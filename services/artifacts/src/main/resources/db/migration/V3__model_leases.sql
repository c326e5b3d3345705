-- Validating a model is leased: the replica that holds it (queued or running) keeps extending
-- processing_until; a model whose lease ran out was left by a stopped replica and is taken over
-- (imports run again, uploads whose files are gone fail with the reason). attempts counts the runs, so
-- a model that stops its replica every time fails instead of stopping every replica in turn.
ALTER TABLE models ADD COLUMN processing_until TIMESTAMPTZ;
ALTER TABLE models ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX models_validating ON models (processing_until) WHERE status = 'validating';
