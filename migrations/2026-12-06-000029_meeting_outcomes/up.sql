-- Meetings with outcomes: agenda items gain a resolution, a result and decisions (inside the agenda's JSON), the
-- meeting its attendance and a version for conditional changes; action items follow up decisions and are duties in
-- /obligations, as are published knowledge entries whose review date approaches.
ALTER TABLE committee_meetings
    ADD COLUMN attendance jsonb NOT NULL DEFAULT '{"memberIds": [], "serviceUnit": "absent", "guests": []}',
    ADD COLUMN version bigint NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE action_items (
    id                       uuid PRIMARY KEY,
    meeting_id               uuid NOT NULL REFERENCES committee_meetings (id) ON DELETE CASCADE,
    committee_id             uuid NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    -- The agenda item (its position in the meeting's agenda) the action follows from, if one.
    agenda_index             integer CHECK (agenda_index BETWEEN 0 AND 49),
    title                    text NOT NULL CHECK (char_length(title) BETWEEN 3 AND 300),
    description              text NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    assignee                 text NOT NULL CHECK (assignee IN ('organisation', 'committee', 'service_unit')),
    assignee_organisation_id uuid REFERENCES organisations (id),
    assignee_committee_id    uuid REFERENCES committees (id) ON DELETE CASCADE,
    -- The assignee organisation's district (which never changes), for filters and the obligations view.
    district_ags             text REFERENCES districts (ags),
    due_on                   date NOT NULL,
    status                   text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    note                     text CHECK (char_length(note) <= 2000),
    version                  bigint NOT NULL DEFAULT 1,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT action_items_assignee_consistent CHECK (
        (assignee = 'organisation' AND assignee_organisation_id IS NOT NULL AND district_ags IS NOT NULL
            AND assignee_committee_id IS NULL)
        OR (assignee = 'committee' AND assignee_committee_id IS NOT NULL AND assignee_organisation_id IS NULL
            AND district_ags IS NULL)
        OR (assignee = 'service_unit' AND assignee_organisation_id IS NULL AND assignee_committee_id IS NULL
            AND district_ags IS NULL))
);
CREATE INDEX action_items_due_idx ON action_items (due_on, id);
CREATE INDEX action_items_meeting_idx ON action_items (meeting_id, id);
CREATE INDEX action_items_committee_idx ON action_items (committee_id, due_on, id);
CREATE INDEX action_items_organisation_idx ON action_items (assignee_organisation_id) WHERE assignee_organisation_id IS NOT NULL;
CREATE INDEX knowledge_entries_review_idx ON knowledge_entries (review_due_on) WHERE status = 'published';

-- Duties of the service unit and of committees have no organisation and no district.
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
