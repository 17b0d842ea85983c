-- Files of committee meetings (minutes), referrals and coordinators; the grant a file belongs to, and its retention
-- (Aufbewahrungsfrist): set on the grant's files when its settlement is confirmed, kept on the application for files
-- added later (a recovery claim's), and enforced by a trigger as the backstop of the handlers' rule.
ALTER TABLE attachments DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments
    ADD CONSTRAINT attachments_owner_kind_check CHECK (owner_kind IN ('application', 'grant_notice',
        'payment_request', 'proof_of_use', 'recovery_claim', 'committee_meeting', 'referral', 'coordinator')),
    ALTER COLUMN organisation_id DROP NOT NULL,
    ADD COLUMN grant_id uuid REFERENCES applications (id);

UPDATE attachments a SET grant_id = CASE a.owner_kind
    WHEN 'application' THEN a.owner_id
    WHEN 'grant_notice' THEN (SELECT application_id FROM grant_notices WHERE id = a.owner_id)
    WHEN 'payment_request' THEN (SELECT application_id FROM payment_requests WHERE id = a.owner_id)
    WHEN 'proof_of_use' THEN (SELECT application_id FROM proofs_of_use WHERE id = a.owner_id)
    WHEN 'recovery_claim' THEN (SELECT application_id FROM recovery_claims WHERE id = a.owner_id)
END;
CREATE INDEX attachments_grant ON attachments (grant_id) WHERE grant_id IS NOT NULL;

-- The day until which the grant's files are kept: settlement + the retention period.
ALTER TABLE applications ADD COLUMN retain_files_until date;

CREATE FUNCTION attachments_retained() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.retain_until IS NOT NULL AND OLD.retain_until >= current_date THEN
        RAISE EXCEPTION 'attachment % is kept until %', OLD.id, OLD.retain_until USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER attachments_retained BEFORE DELETE ON attachments FOR EACH ROW EXECUTE FUNCTION attachments_retained();
