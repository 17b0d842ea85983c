-- Knowledge entries take files (a guidance document, a project's report), and link the accepted proofs of use of
-- the funded projects they draw on.
ALTER TABLE attachments DROP CONSTRAINT attachments_owner_kind_check;
ALTER TABLE attachments
    ADD CONSTRAINT attachments_owner_kind_check CHECK (owner_kind IN ('application', 'grant_notice',
        'payment_request', 'proof_of_use', 'recovery_claim', 'committee_meeting', 'referral', 'coordinator',
        'knowledge_entry'));
ALTER TABLE knowledge_entries ADD COLUMN proof_ids uuid[] NOT NULL DEFAULT '{}';
