-- The ministry adds each new half-year's base rate when the Bundesbank publishes it, and corrects a wrong one
-- (PUT /base-rates/{validFrom}); each row says where its value comes from. The migration's rows keep the sources
-- listed in migration 000012.
ALTER TABLE base_rates ADD COLUMN source text NOT NULL DEFAULT 'Migration 000012 (secondary sources, see its header)';
ALTER TABLE base_rates ALTER COLUMN source DROP DEFAULT;
