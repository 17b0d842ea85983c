-- Fristen als Daten: every open duty with its due date, as one view over the resources that carry them, and the
-- reminders sent for them (each stage once, whichever instance sends it).
CREATE VIEW obligations AS
-- The recipient's proofs of use until they are submitted (again).
SELECT 'proof_of_use.submit'::text AS duty, 'proof_of_use'::text AS resource_kind, p.id AS resource_id,
       p.organisation_id, p.district_ags, p.due_on, 'municipality'::text AS party
FROM proofs_of_use p
WHERE p.status IN ('open', 'draft', 'changes_requested')
UNION ALL
-- Payment requests waiting for the ministry's sign-off: due when the first expense they pay for falls due.
SELECT 'payment_request.sign_off', 'payment_request', r.id, r.organisation_id, r.district_ags,
       coalesce((SELECT min((e ->> 'dueOn')::date) FROM jsonb_array_elements(r.expenses) e), r.created_at::date),
       'ministry'
FROM payment_requests r
WHERE r.status IN ('submitted', 'checked')
UNION ALL
-- The recipient's right to object to an issued notice ends the day before it is final.
SELECT 'grant_notice.objection_period', 'grant_notice', n.id, n.organisation_id, n.district_ags, n.final_on - 1,
       'municipality'
FROM grant_notices n
WHERE n.status = 'issued' AND n.final_on > (now() AT TIME ZONE 'Europe/Berlin')::date;

CREATE TABLE obligation_reminders (
    duty text NOT NULL,
    resource_id uuid NOT NULL,
    due_on date NOT NULL,
    -- `due_soon:<days>` for a lead time, or `overdue`.
    stage text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (duty, resource_id, due_on, stage)
);
