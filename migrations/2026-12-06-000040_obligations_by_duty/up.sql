-- Obligations at a million applications (docs/performance.md S6 and S7): a page of `GET /obligations` read the whole
-- union of nine duties and sorted it (591 ms as the ministry at 1,000,000 applications: 337,727 notices, 415,823
-- payment requests, 336,147 proofs). PostgreSQL does not read the union's branches in order here, so each duty
-- becomes a view of its own on its own table, with partial indexes in page order (due date, id; and by organisation
-- for a municipality's page). The service reads the first rows of each duty's view in one pipelined round trip and
-- merges them (src/obligations/store.rs). `obligations` stays the union of the nine views: counts and reminders read
-- it, so each duty is defined once.

-- When a payment request's sign-off falls due: the first expense it pays for, or the day it was made (Europe/Berlin;
-- the old view took the session's calendar day). IMMUTABLE so that an index can hold it: the dates in `expenses` are
-- ISO dates written by the service, which read the same under every DateStyle.
CREATE FUNCTION payment_sign_off_due(expenses jsonb, created_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce((SELECT min((e ->> 'dueOn')::date) FROM jsonb_array_elements(expenses) e),
                (created_at AT TIME ZONE 'Europe/Berlin')::date);

CREATE VIEW obligations_proof_submit AS
SELECT 'proof_of_use.submit'::text AS duty, 'proof_of_use'::text AS resource_kind, p.id AS resource_id,
       p.organisation_id, p.district_ags, p.due_on, 'municipality'::text AS party
FROM proofs_of_use p
WHERE p.status IN ('open', 'draft', 'changes_requested');

CREATE VIEW obligations_payment_sign_off AS
SELECT 'payment_request.sign_off'::text AS duty, 'payment_request'::text AS resource_kind, r.id AS resource_id,
       r.organisation_id, r.district_ags, payment_sign_off_due(r.expenses, r.created_at) AS due_on,
       'ministry'::text AS party
FROM payment_requests r
WHERE r.status IN ('submitted', 'checked');

CREATE VIEW obligations_objection_period AS
SELECT 'grant_notice.objection_period'::text AS duty, 'grant_notice'::text AS resource_kind, n.id AS resource_id,
       n.organisation_id, n.district_ags, n.final_on - 1 AS due_on, 'municipality'::text AS party
FROM grant_notices n
WHERE n.status = 'issued' AND n.final_on IS NOT NULL;

CREATE VIEW obligations_hearing AS
SELECT 'recovery_claim.hearing'::text AS duty, 'recovery_claim'::text AS resource_kind, c.id AS resource_id,
       c.organisation_id, c.district_ags, c.hearing_until AS due_on, 'municipality'::text AS party
FROM recovery_claims c
WHERE c.status = 'hearing' AND c.answer IS NULL;

CREATE VIEW obligations_change_decision AS
SELECT 'change_request.decide'::text AS duty, 'change_request'::text AS resource_kind, q.id AS resource_id,
       q.organisation_id, q.district_ags, (q.created_at AT TIME ZONE 'Europe/Berlin')::date + 30 AS due_on,
       'ministry'::text AS party
FROM change_requests q
WHERE q.status = 'submitted';

CREATE VIEW obligations_early_start_decision AS
SELECT 'early_start_consent.decide'::text AS duty, 'early_start_consent'::text AS resource_kind, e.id AS resource_id,
       e.organisation_id, e.district_ags, e.start_on AS due_on, 'ministry'::text AS party
FROM early_start_consents e
WHERE e.status = 'requested';

CREATE VIEW obligations_repayment AS
SELECT 'recovery_claim.repay'::text AS duty, 'recovery_claim'::text AS resource_kind, c.id AS resource_id,
       c.organisation_id, c.district_ags,
       CASE WHEN c.status = 'decided' THEN (c.decided_on + interval '1 month')::date
            ELSE (c.first_instalment_on + make_interval(months => c.instalments - 1))::date END AS due_on,
       'municipality'::text AS party
FROM recovery_claims c
WHERE (c.status = 'decided' AND c.decided_on IS NOT NULL)
   OR (c.status = 'in_instalments' AND c.first_instalment_on IS NOT NULL AND c.instalments IS NOT NULL);

CREATE VIEW obligations_action_item AS
SELECT 'action_item.complete'::text AS duty, 'action_item'::text AS resource_kind, a.id AS resource_id,
       a.assignee_organisation_id AS organisation_id, a.district_ags, a.due_on,
       CASE a.assignee WHEN 'organisation' THEN 'municipality' WHEN 'committee' THEN 'committee'
                       ELSE 'service_unit' END::text AS party
FROM action_items a
WHERE a.status IN ('open', 'in_progress');

CREATE VIEW obligations_knowledge_review AS
SELECT 'knowledge_entry.review'::text AS duty, 'knowledge_entry'::text AS resource_kind, k.id AS resource_id,
       NULL::uuid AS organisation_id, NULL::text AS district_ags, k.review_due_on AS due_on,
       'service_unit'::text AS party
FROM knowledge_entries k
WHERE k.status = 'published' AND k.review_due_on IS NOT NULL;

CREATE OR REPLACE VIEW obligations AS
SELECT * FROM obligations_proof_submit
UNION ALL SELECT * FROM obligations_payment_sign_off
UNION ALL SELECT * FROM obligations_objection_period
UNION ALL SELECT * FROM obligations_hearing
UNION ALL SELECT * FROM obligations_change_decision
UNION ALL SELECT * FROM obligations_early_start_decision
UNION ALL SELECT * FROM obligations_repayment
UNION ALL SELECT * FROM obligations_action_item
UNION ALL SELECT * FROM obligations_knowledge_review;

-- Each duty's rows in page order (the view's condition as the predicate, its due date as the first key), and by
-- organisation for a municipality's page. The few duties on small tables get them too: a page must not depend on
-- which table happens to be small.
CREATE INDEX obligations_proof_submit_due ON proofs_of_use (due_on, id)
    WHERE status IN ('open', 'draft', 'changes_requested');
CREATE INDEX obligations_proof_submit_org ON proofs_of_use (organisation_id, due_on, id)
    WHERE status IN ('open', 'draft', 'changes_requested');
CREATE INDEX obligations_payment_sign_off_due ON payment_requests (payment_sign_off_due(expenses, created_at), id)
    WHERE status IN ('submitted', 'checked');
CREATE INDEX obligations_payment_sign_off_org
    ON payment_requests (organisation_id, payment_sign_off_due(expenses, created_at), id)
    WHERE status IN ('submitted', 'checked');
CREATE INDEX obligations_objection_period_due ON grant_notices ((final_on - 1), id)
    WHERE status = 'issued' AND final_on IS NOT NULL;
CREATE INDEX obligations_objection_period_org ON grant_notices (organisation_id, (final_on - 1), id)
    WHERE status = 'issued' AND final_on IS NOT NULL;
CREATE INDEX obligations_hearing_due ON recovery_claims (hearing_until, id)
    WHERE status = 'hearing' AND answer IS NULL;
CREATE INDEX obligations_hearing_org ON recovery_claims (organisation_id, hearing_until, id)
    WHERE status = 'hearing' AND answer IS NULL;
CREATE INDEX obligations_change_decision_due
    ON change_requests (((created_at AT TIME ZONE 'Europe/Berlin')::date + 30), id) WHERE status = 'submitted';
CREATE INDEX obligations_change_decision_org
    ON change_requests (organisation_id, ((created_at AT TIME ZONE 'Europe/Berlin')::date + 30), id)
    WHERE status = 'submitted';
CREATE INDEX obligations_early_start_decision_due ON early_start_consents (start_on, id) WHERE status = 'requested';
CREATE INDEX obligations_early_start_decision_org ON early_start_consents (organisation_id, start_on, id)
    WHERE status = 'requested';
CREATE INDEX obligations_action_item_due ON action_items (due_on, id) WHERE status IN ('open', 'in_progress');
CREATE INDEX obligations_action_item_org ON action_items (assignee_organisation_id, due_on, id)
    WHERE status IN ('open', 'in_progress');
CREATE INDEX obligations_knowledge_review_due ON knowledge_entries (review_due_on, id)
    WHERE status = 'published' AND review_due_on IS NOT NULL;
CREATE INDEX obligations_repayment_due ON recovery_claims ((CASE WHEN status = 'decided' THEN (decided_on + interval '1 month')::date
         ELSE (first_instalment_on + make_interval(months => instalments - 1))::date END), id)
    WHERE (status = 'decided' AND decided_on IS NOT NULL)
       OR (status = 'in_instalments' AND first_instalment_on IS NOT NULL AND instalments IS NOT NULL);
CREATE INDEX obligations_repayment_org ON recovery_claims (organisation_id,
        (CASE WHEN status = 'decided' THEN (decided_on + interval '1 month')::date
              ELSE (first_instalment_on + make_interval(months => instalments - 1))::date END), id)
    WHERE (status = 'decided' AND decided_on IS NOT NULL)
       OR (status = 'in_instalments' AND first_instalment_on IS NOT NULL AND instalments IS NOT NULL);
