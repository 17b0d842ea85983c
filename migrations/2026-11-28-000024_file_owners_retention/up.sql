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

-- The day until which the grant's files are kept: settlement + the retention period. Grants settled before this
-- migration get the default period (10 years) from their confirmation day.
ALTER TABLE applications ADD COLUMN retain_files_until date;
UPDATE applications a SET retain_files_until = ((s.updated_at AT TIME ZONE 'Europe/Berlin')::date + interval '10 years')::date
FROM settlements s WHERE s.application_id = a.id AND s.status = 'confirmed';
UPDATE attachments f SET retain_until = a.retain_files_until
FROM applications a WHERE f.grant_id = a.id AND a.retain_files_until IS NOT NULL;

-- File numbers past 99999 keep all their digits (lpad alone would cut them).
CREATE FUNCTION next_file_number() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT 'VG-' || to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY') || '-'
        || lpad(n::text, greatest(5, length(n::text)), '0')
    FROM nextval('grant_file_numbers') AS n
$$;
ALTER TABLE grant_notices ALTER COLUMN file_number SET DEFAULT next_file_number();

CREATE FUNCTION attachments_retained() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The day in Hessen, as the service counts it (sessions run in UTC).
    IF OLD.retain_until IS NOT NULL AND OLD.retain_until >= (now() AT TIME ZONE 'Europe/Berlin')::date THEN
        RAISE EXCEPTION 'attachment % is kept until %', OLD.id, OLD.retain_until USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER attachments_retained BEFORE DELETE ON attachments FOR EACH ROW EXECUTE FUNCTION attachments_retained();
