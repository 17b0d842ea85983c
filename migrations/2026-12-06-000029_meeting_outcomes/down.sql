DROP VIEW obligations;
CREATE VIEW obligations AS
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
WHERE e.status = 'requested'
UNION ALL
SELECT 'recovery_claim.repay', 'recovery_claim', c.id, c.organisation_id, c.district_ags,
       CASE WHEN c.status = 'decided' THEN (c.decided_on + interval '1 month')::date
            ELSE (c.first_instalment_on + make_interval(months => c.instalments - 1))::date END,
       'municipality'
FROM recovery_claims c
WHERE (c.status = 'decided' AND c.decided_on IS NOT NULL) OR (c.status = 'in_instalments' AND c.first_instalment_on IS NOT NULL
                               AND c.instalments IS NOT NULL);
DROP INDEX knowledge_entries_review_idx;
DROP TABLE action_items;
ALTER TABLE committee_meetings DROP COLUMN attendance, DROP COLUMN version, DROP COLUMN updated_at;
