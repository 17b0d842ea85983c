DROP TRIGGER attachments_retained ON attachments;
DROP FUNCTION attachments_retained();
ALTER TABLE applications DROP COLUMN retain_files_until;
ALTER TABLE grant_notices ALTER COLUMN file_number SET DEFAULT
    'VG-' || to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY') || '-' || lpad(nextval('grant_file_numbers')::text, 5, '0');
DROP FUNCTION next_file_number();
DROP INDEX attachments_grant;
-- The content of these files stays in the object store, unreferenced: remove it there if the data must go.
DELETE FROM attachments WHERE owner_kind IN ('committee_meeting', 'referral', 'coordinator');
ALTER TABLE attachments DROP COLUMN grant_id, ALTER COLUMN organisation_id SET NOT NULL,
    DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_owner_kind_check CHECK (owner_kind IN ('application',
    'grant_notice', 'payment_request', 'proof_of_use', 'recovery_claim'));
