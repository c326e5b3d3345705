-- Learned merges (docs/merging.md, "Learned merges"): their settings, AdaMerging's shared calibration
-- dataset (Expert Merging's are in adapters, one per adapter), the latest progress a worker reported,
-- and stop requests. Statuses: queued, running, succeeded, failed, cancelled.
ALTER TABLE merges ADD COLUMN hyperparameters TEXT;
ALTER TABLE merges ADD COLUMN calibration_file VARCHAR(64);
ALTER TABLE merges ADD COLUMN progress TEXT;                -- {step, steps, loss, parts, resumed_from?, updated_at}
ALTER TABLE merges ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
