DROP TABLE grant_notice_years;
DROP INDEX grant_notices_one_in_force;
DROP INDEX grant_notices_one_draft;
ALTER TABLE grant_notices
    DROP CONSTRAINT grant_notices_amendment_is_numbered,
    DROP COLUMN amendment_reason,
    DROP COLUMN amends;
