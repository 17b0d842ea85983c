DROP TABLE idempotency_keys;
DROP TABLE application_comments;
DROP TABLE application_history;
DROP TABLE applications;
