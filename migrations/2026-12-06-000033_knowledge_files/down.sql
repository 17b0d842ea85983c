ALTER TABLE knowledge_entries DROP COLUMN proof_ids;
DELETE FROM attachments WHERE owner_kind = 'knowledge_entry';
ALTER TABLE attachments DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments
    ADD CONSTRAINT attachments_owner_kind_check CHECK (owner_kind IN ('application', 'grant_notice',
        'payment_request', 'proof_of_use', 'recovery_claim', 'committee_meeting', 'referral', 'coordinator'));
