-- The change feed (a transactional outbox) and webhook subscriptions with their deliveries.

-- Writers insert events in the transaction of the change, without a position. The sequencer (one at a time,
-- across all instances) gives committed events their positions in one transaction, in commit order, so a reader
-- following `position` never passes an event that becomes visible later.
CREATE TABLE events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position      bigint UNIQUE,
    type          text NOT NULL,
    resource_kind text NOT NULL,
    resource_id   uuid NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_sub     text NOT NULL,
    actor_role    text NOT NULL,
    actor_org_id  uuid,
    -- Who may see the event besides the service unit and the ministry (the same rules as the resource).
    public        boolean NOT NULL DEFAULT false,
    org_ids       uuid[] NOT NULL DEFAULT '{}',
    districts     text[] NOT NULL DEFAULT '{}',
    staff_only    boolean NOT NULL DEFAULT false,
    data          jsonb NOT NULL
);
CREATE INDEX events_unsequenced_idx ON events (id) WHERE position IS NULL;
CREATE INDEX events_resource_idx ON events (resource_kind, resource_id);

CREATE TABLE webhooks (
    id                   uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    owner_role           text NOT NULL,
    owner_org_id         uuid REFERENCES organisations (id),
    owner_district_ags   text,
    created_by           text NOT NULL,
    url                  text NOT NULL CHECK (char_length(url) <= 2000),
    event_types          text[] NOT NULL,
    secret               text NOT NULL,
    enabled              boolean NOT NULL DEFAULT true,
    consecutive_failures integer NOT NULL DEFAULT 0,
    disabled_at          timestamptz,
    deleted_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    webhook_id      uuid NOT NULL REFERENCES webhooks (id),
    event_id        bigint NOT NULL REFERENCES events (id),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    first_attempt_at timestamptz,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
