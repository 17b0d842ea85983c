-- Zwischen- und Verwendungsnachweise (ANBest-P/-GK Nr. 6; VV Nr. 10 zu § 44 LHO): proofs of use, created with their
-- due dates when a notice is issued (one interim proof per fiscal year the project runs past, one final proof after
-- the approval period), filled in by the recipient, reviewed by two ministry people (content and figures).

-- The line's settings (defaults from docs/grants.md).
ALTER TABLE funding_lines
    ADD COLUMN interim_proof_months integer NOT NULL DEFAULT 4 CHECK (interim_proof_months BETWEEN 1 AND 24),
    ADD COLUMN final_proof_months integer NOT NULL DEFAULT 6 CHECK (final_proof_months BETWEEN 1 AND 36);

CREATE TABLE proofs_of_use (
    id uuid PRIMARY KEY,
    -- The notice in force when the proof was (re)scheduled.
    notice_id uuid NOT NULL REFERENCES grant_notices (id),
    application_id uuid NOT NULL REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    kind text NOT NULL CHECK (kind IN ('interim', 'final')),
    fiscal_year integer CHECK (fiscal_year BETWEEN 2000 AND 2100),
    due_on date NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'draft', 'submitted', 'in_review', 'changes_requested',
                                           'accepted', 'rejected')),
    -- Sachbericht: {"activities", "results", "deviations"}.
    report jsonb NOT NULL DEFAULT '{}',
    -- Zahlenmäßiger Nachweis, income by source: {"ownFundsCents", "thirdPartyFundsCents", "grantCents"}.
    income jsonb NOT NULL DEFAULT '{}',
    -- Belegliste: [{"paidOn", "payee", "reason", "amountCents", "admittedCents", "note"}].
    receipts jsonb NOT NULL DEFAULT '[]',
    content_signed_by text,
    financial_signed_by text,
    admitted_cents bigint CHECK (admitted_cents >= 0),
    reason text,
    submitted_at timestamptz,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT proofs_of_use_year_of_interim CHECK ((kind = 'interim') = (fiscal_year IS NOT NULL)),
    -- Vier-Augen-Prinzip: the content review and the financial review are signed by different people.
    CONSTRAINT proofs_of_use_four_eyes CHECK (content_signed_by IS NULL OR financial_signed_by IS NULL
                                              OR content_signed_by <> financial_signed_by),
    CONSTRAINT proofs_of_use_accepted_is_signed CHECK (status <> 'accepted' OR (content_signed_by IS NOT NULL
                                                       AND financial_signed_by IS NOT NULL AND admitted_cents IS NOT NULL)),
    UNIQUE NULLS NOT DISTINCT (application_id, kind, fiscal_year)
);
CREATE INDEX proofs_of_use_organisation ON proofs_of_use (organisation_id, id);
CREATE INDEX proofs_of_use_status ON proofs_of_use (status, id);
CREATE INDEX proofs_of_use_due ON proofs_of_use (due_on) WHERE status NOT IN ('accepted', 'rejected');
