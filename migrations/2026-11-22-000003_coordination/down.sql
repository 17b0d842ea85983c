DROP INDEX applications_referral_idx;
ALTER TABLE applications DROP CONSTRAINT applications_referral_fkey;
DROP TABLE referral_targets;
DROP TABLE referrals;
DROP TABLE committee_meetings;
DROP TABLE committee_members;
DROP TABLE committees;
DROP TABLE coordinators;

DROP INDEX history_resource_idx;
DELETE FROM history WHERE resource_kind <> 'application';
ALTER TABLE history ALTER COLUMN to_status SET NOT NULL;
ALTER TABLE history DROP COLUMN resource_kind;
ALTER TABLE history RENAME COLUMN resource_id TO application_id;
ALTER TABLE history ADD CONSTRAINT application_history_application_id_fkey
    FOREIGN KEY (application_id) REFERENCES applications (id);
ALTER TABLE history RENAME TO application_history;
CREATE INDEX application_history_application_idx ON application_history (application_id, id);
