ALTER TABLE webhooks DROP COLUMN topics, DROP COLUMN districts, DROP COLUMN committee_ids;
ALTER TABLE events DROP COLUMN topics, DROP COLUMN about_districts, DROP COLUMN committee_ids;
