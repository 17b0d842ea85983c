DROP INDEX applications_topics;
ALTER TABLE applications DROP COLUMN topics;
