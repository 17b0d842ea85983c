-- Vorzeitiger Maßnahmebeginn: only projects not yet begun are funded (VV Nr. 1.3 zu § 44 LHO); a recipient that must
-- begin before the approval asks the ministry's consent first. The start is the first binding supply or service
-- contract (for a GK post: signing the employment contract); planning does not count. The consent is never
-- retroactive (the start lies on or after the day of the request) and promises no grant.
CREATE TABLE early_start_consents (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    -- The day the recipient means to begin (the first binding contract).
    start_on date NOT NULL,
    reason text NOT NULL,
    -- The recipient's declaration that the project has not begun; a request without it is refused at the edge.
    not_yet_begun boolean NOT NULL CHECK (not_yet_begun),
    requested_on date NOT NULL,
    status text NOT NULL CHECK (status IN ('requested', 'granted', 'refused', 'withdrawn')),
    decided_by text,
    decision_reason text,
    created_by text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT early_start_consents_not_retroactive CHECK (start_on >= requested_on),
    CONSTRAINT early_start_consents_refusal_reason CHECK (status <> 'refused' OR decision_reason IS NOT NULL)
);
-- One live request or consent per application.
CREATE UNIQUE INDEX early_start_consents_one_live ON early_start_consents (application_id)
    WHERE status IN ('requested', 'granted');
CREATE INDEX early_start_consents_organisation ON early_start_consents (organisation_id, id);

-- The ministry decides before the day the recipient means to begin. The objection period of an issued notice is
-- listed until it ends by the service's calendar day (the store filters it), not by the database clock.
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
WHERE n.status = 'issued' AND n.final_on IS NOT NULL
UNION ALL
SELECT 'recovery_claim.hearing', 'recovery_claim', c.id, c.organisation_id, c.district_ags, c.hearing_until,
       'municipality'
FROM recovery_claims c
WHERE c.status = 'hearing' AND c.answer IS NULL
UNION ALL
SELECT 'change_request.decide', 'change_request', q.id, q.organisation_id, q.district_ags,
       (q.created_at AT TIME ZONE 'Europe/Berlin')::date + 30, 'ministry'
FROM change_requests q
WHERE q.status = 'submitted'
UNION ALL
SELECT 'early_start_consent.decide', 'early_start_consent', e.id, e.organisation_id, e.district_ags, e.start_on,
       'ministry'
FROM early_start_consents e
WHERE e.status = 'requested';
