-- Faults and fairness: when a job's command went to the workers (a tenant past its limit of running jobs
-- waits queued, not yet sent), which attempt runs it, when its worker last reported (heartbeats), and
-- when it was found stalled (its worker stopped reporting; it waits to be taken over).
ALTER TABLE jobs ADD COLUMN dispatched_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN last_report_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN stalled_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET dispatched_at = updated_at WHERE status IN ('queued', 'running');
CREATE INDEX jobs_active ON jobs (tenant, status) WHERE status IN ('queued', 'running');
