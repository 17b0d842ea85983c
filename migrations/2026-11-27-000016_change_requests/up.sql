-- Änderungen während des Projekts: the recipient reports what it must report (Mitteilungspflichten, ANBest-P Nr. 5,
-- ANBest-GK Nr. 5) and asks for amendments (a longer approval period, a new yearly breakdown, moving money between
-- plan lines beyond the tolerance, an increase); the ministry acknowledges a report or decides a request. A granted
-- request drafts the amending notice, which another ministry person issues (the ledger follows then).
CREATE TABLE change_requests (
    id uuid PRIMARY KEY,
    notice_id uuid NOT NULL REFERENCES grant_notices (id),
    application_id uuid NOT NULL REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    kind text NOT NULL CHECK (kind IN ('further_funding', 'purpose_change', 'purpose_unreachable', 'funds_not_needed',
                                       'insolvency', 'other_report', 'extension', 'new_breakdown', 'plan_shift',
                                       'increase')),
    description text NOT NULL,
    -- What an amendment request proposes: the new end of the approval period and/or the new breakdown by year.
    proposed_period_end date,
    proposed_years jsonb,
    status text NOT NULL CHECK (status IN ('submitted', 'acknowledged', 'granted', 'refused')),
    decided_by text,
    reason text,
    -- The amending notice a granted request drafted.
    amending_notice_id uuid REFERENCES grant_notices (id) ON DELETE SET NULL,
    created_by text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX change_requests_organisation ON change_requests (organisation_id, id);
CREATE INDEX change_requests_notice ON change_requests (notice_id, id);

-- The ministry's duty to answer, within 30 days of the request.
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
WHERE c.status = 'hearing' AND c.answer IS NULL
UNION ALL
SELECT 'change_request.decide', 'change_request', q.id, q.organisation_id, q.district_ags,
       (q.created_at AT TIME ZONE 'Europe/Berlin')::date + 30, 'ministry'
FROM change_requests q
WHERE q.status = 'submitted';
