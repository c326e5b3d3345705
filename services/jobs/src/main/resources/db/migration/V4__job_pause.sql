-- Pausing a job (OpenAI's pause and resume): asked of its worker, which checkpoints and stops; the job
-- is `paused` until resumed.
ALTER TABLE jobs ADD COLUMN pause_requested BOOLEAN NOT NULL DEFAULT FALSE;
