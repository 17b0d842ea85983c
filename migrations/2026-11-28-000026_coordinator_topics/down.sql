DROP INDEX coordinators_topics;
ALTER TABLE coordinators DROP COLUMN topics;
