-- Rückforderungen (§§ 49, 49a HVwVfG): what a settlement found overpaid is reclaimed after a hearing (Anhörung),
-- with interest at 5 percentage points above the base rate from the day the notice's effect ended.

ALTER TABLE funding_lines
    ADD COLUMN hearing_days integer NOT NULL DEFAULT 28 CHECK (hearing_days BETWEEN 7 AND 90),
    ADD COLUMN interest_threshold_cents bigint NOT NULL DEFAULT 0 CHECK (interest_threshold_cents >= 0);

CREATE TABLE recovery_claims (
    id uuid PRIMARY KEY,
    settlement_id uuid NOT NULL UNIQUE REFERENCES settlements (id),
    notice_id uuid NOT NULL REFERENCES grant_notices (id),
    application_id uuid NOT NULL REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    status text NOT NULL CHECK (status IN ('hearing', 'decided', 'paid', 'in_instalments', 'waived')),
    principal_cents bigint NOT NULL CHECK (principal_cents > 0),
    -- Interest runs from this day (the day the notice's effect ended, § 49a Abs. 3 HVwVfG).
    interest_from date NOT NULL,
    -- Interest below this is not charged (the line's small-amount threshold when the claim was made).
    interest_threshold_cents bigint NOT NULL CHECK (interest_threshold_cents >= 0),
    hearing_until date NOT NULL,
    answer text,
    answered_at timestamptz,
    decided_by text,
    decided_on date,
    paid_on date,
    -- Fixed when the claim is paid or waived.
    interest_cents bigint CHECK (interest_cents >= 0),
    instalments integer CHECK (instalments BETWEEN 2 AND 120),
    first_instalment_on date,
    reason text,
    created_by text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Vier-Augen-Prinzip: who raised the claim does not decide it.
    CONSTRAINT recovery_claims_four_eyes CHECK (decided_by IS NULL OR decided_by <> created_by),
    CONSTRAINT recovery_claims_paid_is_dated CHECK (status <> 'paid' OR (paid_on IS NOT NULL AND interest_cents IS NOT NULL)),
    CONSTRAINT recovery_claims_instalments_planned CHECK (status <> 'in_instalments'
                                                          OR (instalments IS NOT NULL AND first_instalment_on IS NOT NULL)),
    CONSTRAINT recovery_claims_waiver_reason CHECK (status <> 'waived' OR reason IS NOT NULL)
);
CREATE INDEX recovery_claims_organisation ON recovery_claims (organisation_id, id);

-- The recipient answers the hearing by its deadline: a duty in the obligations view.
CREATE OR REPLACE VIEW obligations AS
SELECT 'proof_of_use.submit'::text AS duty, 'proof_of_use'::text AS resource_kind, p.id AS resource_id,
       p.organisation_id, p.district_ags, p.due_on, 'municipality'::text AS party
FROM proofs_of_use p
WHERE p.status IN ('open', 'draft', 'changes_requested')
UNION ALL
SELECT 'payment_request.sign_off', 'payment_request', r.id, r.organisation_id, r.district_ags,
       coalesce((SELECT min((e ->> 'dueOn')::date) FROM jsonb_array_elements(r.expenses) e), r.created_at::date),
       'ministry'
FROM payment_requests r
WHERE r.status IN ('submitted', 'checked')
UNION ALL
SELECT 'grant_notice.objection_period', 'grant_notice', n.id, n.organisation_id, n.district_ags, n.final_on - 1,
       'municipality'
FROM grant_notices n
WHERE n.status = 'issued' AND n.final_on > (now() AT TIME ZONE 'Europe/Berlin')::date
UNION ALL
SELECT 'recovery_claim.hearing', 'recovery_claim', c.id, c.organisation_id, c.district_ags, c.hearing_until,
       'municipality'
FROM recovery_claims c
WHERE c.status = 'hearing' AND c.answer IS NULL;
