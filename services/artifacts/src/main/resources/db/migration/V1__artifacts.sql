-- The artifacts service's own database: models, datasets, adapters.

CREATE TABLE models (
  id              VARCHAR(64)  PRIMARY KEY,
  tenant          VARCHAR(64)  NOT NULL,
  name            VARCHAR(256) NOT NULL,
  status          VARCHAR(16)  NOT NULL,     -- validating, ready, failed
  source          VARCHAR(1024) NOT NULL,    -- upload, hf://…, https://…, s3://…
  architecture    VARCHAR(64),
  parameters      BIGINT,
  files           TEXT         NOT NULL,     -- JSON [{key, sha256, bytes}]
  error_code      VARCHAR(64),
  error_message   TEXT,
  created_at      TIMESTAMPTZ  NOT NULL,
  updated_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX models_tenant ON models (tenant, created_at);

CREATE TABLE datasets (
  id              VARCHAR(64)  PRIMARY KEY,
  tenant          VARCHAR(64)  NOT NULL,
  name            VARCHAR(256) NOT NULL,
  status          VARCHAR(16)  NOT NULL,     -- ready (datasets are validated while they stream in)
  format          VARCHAR(32)  NOT NULL,     -- text, prompt_completion, messages
  rows            BIGINT       NOT NULL,
  token_estimate  BIGINT       NOT NULL,
  object_key      VARCHAR(1024) NOT NULL,
  sha256          VARCHAR(64)  NOT NULL,
  bytes           BIGINT       NOT NULL,
  preview         TEXT         NOT NULL,     -- JSON: the first records
  created_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX datasets_tenant ON datasets (tenant, created_at);

CREATE TABLE adapters (
  id              VARCHAR(64)  PRIMARY KEY,
  tenant          VARCHAR(64)  NOT NULL,
  job_id          VARCHAR(64)  NOT NULL UNIQUE,
  model_id        VARCHAR(64)  NOT NULL,
  method          VARCHAR(32)  NOT NULL,
  parameters      BIGINT       NOT NULL,
  files           TEXT         NOT NULL,     -- JSON [{key, sha256, bytes}]
  metrics         TEXT         NOT NULL,     -- JSON
  lineage         TEXT         NOT NULL,     -- JSON: training_provenance.json
  created_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX adapters_tenant ON adapters (tenant, created_at);
