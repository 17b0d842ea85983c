-- A coordinator's fields of expertise, as topic codes (who in Hessen knows about X).
ALTER TABLE coordinators ADD COLUMN topics text[] NOT NULL DEFAULT '{}';
CREATE INDEX coordinators_topics ON coordinators USING gin (topics);
