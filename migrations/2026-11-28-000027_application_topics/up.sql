-- What an application is about, as topic codes (the knowledge base and the service unit's advice find it by them).
ALTER TABLE applications ADD COLUMN topics text[] NOT NULL DEFAULT '{}';
CREATE INDEX applications_topics ON applications USING gin (topics);
