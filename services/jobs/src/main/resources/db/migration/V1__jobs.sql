-- The jobs service's own database: tenants and API keys, jobs and their events and checkpoints, and
-- projections of the artifacts it references (built from peft.artifact-events).

CREATE TABLE tenants (
  id          VARCHAR(64) PRIMARY KEY,
  created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
  id          VARCHAR(64)  PRIMARY KEY,
  tenant      VARCHAR(64)  NOT NULL REFERENCES tenants (id),
  name        VARCHAR(256) NOT NULL,
  key_hash    VARCHAR(64)  NOT NULL UNIQUE,   -- SHA-256 of the key; the key itself is shown once
  admin       BOOLEAN      NOT NULL,
  created_at  TIMESTAMPTZ  NOT NULL
);

CREATE TABLE jobs (
  id                VARCHAR(64)  PRIMARY KEY,
  tenant            VARCHAR(64)  NOT NULL,
  status            VARCHAR(32)  NOT NULL,
  model_id          VARCHAR(64)  NOT NULL,
  training_file     VARCHAR(64)  NOT NULL,
  validation_file   VARCHAR(64),
  method            TEXT         NOT NULL,   -- JSON, as the request gave it (with defaults filled in)
  hyperparameters   TEXT         NOT NULL,   -- JSON, resolved
  spec              TEXT         NOT NULL,   -- JSON JobSpec sent to workers
  seed              BIGINT       NOT NULL,
  suffix            VARCHAR(64),
  metadata          TEXT,
  error_code        VARCHAR(64),
  error_message     TEXT,
  error_param       VARCHAR(128),
  fine_tuned_model  VARCHAR(64),
  adapter_files     TEXT,                    -- JSON [ObjectRef] of the trained adapter
  result            TEXT,                    -- JSON metrics
  cancel_requested  BOOLEAN      NOT NULL DEFAULT FALSE,
  worker            VARCHAR(128),
  total_steps       INTEGER,
  trained_steps     INTEGER      NOT NULL DEFAULT 0,
  created_at        TIMESTAMPTZ  NOT NULL,
  started_at        TIMESTAMPTZ,
  finished_at       TIMESTAMPTZ,
  updated_at        TIMESTAMPTZ  NOT NULL
);
CREATE INDEX jobs_tenant ON jobs (tenant, created_at);
CREATE INDEX jobs_waiting ON jobs (status) WHERE status = 'validating_files';

CREATE TABLE job_events (
  seq         BIGSERIAL    PRIMARY KEY,
  id          VARCHAR(64)  NOT NULL UNIQUE,
  job_id      VARCHAR(64)  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  created_at  TIMESTAMPTZ  NOT NULL,
  level       VARCHAR(16)  NOT NULL,
  type        VARCHAR(16)  NOT NULL,          -- message, metrics
  message     TEXT         NOT NULL,
  data        TEXT                            -- JSON
);
CREATE INDEX job_events_job ON job_events (job_id, seq);

CREATE TABLE job_checkpoints (
  id               VARCHAR(64)  PRIMARY KEY,
  job_id           VARCHAR(64)  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  step             INTEGER      NOT NULL,
  prefix           VARCHAR(1024) NOT NULL,
  files            TEXT         NOT NULL,
  validation_loss  DOUBLE PRECISION,
  created_at       TIMESTAMPTZ  NOT NULL,
  UNIQUE (job_id, step)
);

CREATE TABLE model_refs (
  id            VARCHAR(64)  PRIMARY KEY,
  tenant        VARCHAR(64)  NOT NULL,
  name          VARCHAR(256) NOT NULL,
  status        VARCHAR(16)  NOT NULL,
  architecture  VARCHAR(64),
  files         TEXT         NOT NULL,
  error         TEXT,
  updated_at    TIMESTAMPTZ  NOT NULL
);

CREATE TABLE dataset_refs (
  id          VARCHAR(64)  PRIMARY KEY,
  tenant      VARCHAR(64)  NOT NULL,
  name        VARCHAR(256) NOT NULL,
  status      VARCHAR(16)  NOT NULL,
  format      VARCHAR(32),
  rows        BIGINT       NOT NULL,
  file        TEXT,                            -- JSON ObjectRef
  updated_at  TIMESTAMPTZ  NOT NULL
);
