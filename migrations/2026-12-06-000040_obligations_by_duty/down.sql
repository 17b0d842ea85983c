-- Back to the single view of migration 000029 (restated whole: a view cannot be amended).
DROP INDEX obligations_proof_submit_due;
DROP INDEX obligations_proof_submit_org;
DROP INDEX obligations_payment_sign_off_due;
DROP INDEX obligations_payment_sign_off_org;
DROP INDEX obligations_objection_period_due;
DROP INDEX obligations_objection_period_org;
DROP INDEX obligations_hearing_due;
DROP INDEX obligations_hearing_org;
DROP INDEX obligations_change_decision_due;
DROP INDEX obligations_change_decision_org;
DROP INDEX obligations_early_start_decision_due;
DROP INDEX obligations_early_start_decision_org;
DROP INDEX obligations_action_item_due;
DROP INDEX obligations_action_item_org;
DROP INDEX obligations_knowledge_review_due;
DROP INDEX obligations_repayment_due;
DROP INDEX obligations_repayment_org;
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
                               AND c.instalments IS NOT NULL)
UNION ALL
SELECT 'action_item.complete', 'action_item', a.id, a.assignee_organisation_id, a.district_ags, a.due_on,
       CASE a.assignee WHEN 'organisation' THEN 'municipality' WHEN 'committee' THEN 'committee' ELSE 'service_unit' END
FROM action_items a
WHERE a.status IN ('open', 'in_progress')
UNION ALL
SELECT 'knowledge_entry.review', 'knowledge_entry', k.id, NULL::uuid, NULL::text, k.review_due_on, 'service_unit'
FROM knowledge_entries k
WHERE k.status = 'published' AND k.review_due_on IS NOT NULL;
DROP VIEW obligations_proof_submit;
DROP VIEW obligations_payment_sign_off;
DROP VIEW obligations_objection_period;
DROP VIEW obligations_hearing;
DROP VIEW obligations_change_decision;
DROP VIEW obligations_early_start_decision;
DROP VIEW obligations_repayment;
DROP VIEW obligations_action_item;
DROP VIEW obligations_knowledge_review;
DROP FUNCTION payment_sign_off_due(jsonb, timestamptz);
