DROP TRIGGER attachments_retained ON attachments;
DROP FUNCTION attachments_retained();
ALTER TABLE applications DROP COLUMN retain_files_until;
DROP INDEX attachments_grant;
DELETE FROM attachments WHERE owner_kind IN ('committee_meeting', 'referral', 'coordinator');
ALTER TABLE attachments DROP COLUMN grant_id, ALTER COLUMN organisation_id SET NOT NULL,
    DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments ADD CONSTRAINT attachments_owner_kind_check CHECK (owner_kind IN ('application',
    'grant_notice', 'payment_request', 'proof_of_use', 'recovery_claim'));
