-- OpenAI's job shape: `method` is the objective ({"type": "supervised", "supervised": {"hyperparameters": …}}),
-- the adapter that trains it is its own column ({"type": "lora", "rank": …}). Jobs stored before keep their
-- meaning: their old method ({"type": "lora", "lora": {…}}) becomes the adapter.
ALTER TABLE jobs ADD COLUMN adapter TEXT;
UPDATE jobs SET
  adapter = ((method::jsonb -> (method::jsonb ->> 'type')) || jsonb_build_object('type', method::jsonb ->> 'type'))::text,
  method = jsonb_build_object('type', 'supervised', 'supervised', jsonb_build_object('hyperparameters', hyperparameters::jsonb))::text;
ALTER TABLE jobs ALTER COLUMN adapter SET NOT NULL;
