-- Merges of adapters (docs/merging.md): requests and their outcome. A merge's output is registered as a
-- model (in models) or as an adapter (in adapters, with merge_id instead of job_id).

CREATE TABLE merges (
  id              VARCHAR(64)  PRIMARY KEY,
  tenant          VARCHAR(64)  NOT NULL,
  name            VARCHAR(256) NOT NULL,
  status          VARCHAR(16)  NOT NULL,     -- queued, succeeded, failed
  model_id        VARCHAR(64)  NOT NULL,
  adapters        TEXT         NOT NULL,     -- JSON [{id, weight}]
  method          VARCHAR(32)  NOT NULL,
  density         DOUBLE PRECISION NOT NULL,
  seed            BIGINT       NOT NULL,
  output_type     VARCHAR(16)  NOT NULL,     -- model, adapter
  lora_rank       INTEGER,                   -- for an adapter
  output_id       VARCHAR(64)  NOT NULL,
  error_code      VARCHAR(64),
  error_message   TEXT,
  created_at      TIMESTAMPTZ  NOT NULL,
  finished_at     TIMESTAMPTZ
);
CREATE INDEX merges_tenant ON merges (tenant, created_at);

ALTER TABLE adapters ALTER COLUMN job_id DROP NOT NULL;
ALTER TABLE adapters ADD COLUMN merge_id VARCHAR(64) UNIQUE;
