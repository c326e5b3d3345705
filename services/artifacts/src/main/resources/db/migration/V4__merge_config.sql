-- Whole-model merges from a mergekit configuration (docs/merging.md): the configuration as given.
ALTER TABLE merges ADD COLUMN config TEXT;
