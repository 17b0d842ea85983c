-- E-mail digests: a daily or weekly summary, in German, of the events a subscriber may see and follows (by event
-- type, topic, district, committee), sent by the instance that locks the digest when it is due.
CREATE TABLE digests (
    id            uuid PRIMARY KEY,
    owner_role    text NOT NULL CHECK (owner_role IN ('municipality', 'service_unit', 'ministry')),
    owner_org_id  uuid REFERENCES organisations (id),
    created_by    text NOT NULL,
    email         text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    frequency     text NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    event_types   text[] NOT NULL DEFAULT '{*}',
    topics        text[] NOT NULL DEFAULT '{}',
    districts     text[] NOT NULL DEFAULT '{}',
    committee_ids uuid[] NOT NULL DEFAULT '{}',
    -- The last event position a digest covered: the next one starts after it.
    last_position bigint NOT NULL DEFAULT 0,
    next_due_at   timestamptz NOT NULL,
    last_sent_at  timestamptz,
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT digests_owner CHECK ((owner_role = 'municipality') = (owner_org_id IS NOT NULL))
);
CREATE INDEX digests_due_idx ON digests (next_due_at) WHERE deleted_at IS NULL;
