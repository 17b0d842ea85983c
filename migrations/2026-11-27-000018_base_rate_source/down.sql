ALTER TABLE base_rates DROP COLUMN source;
