-- Förderanträge: funding applications, their history and comments; idempotency keys for retried POSTs.

CREATE TABLE applications (
    id                      uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    organisation_id         uuid NOT NULL REFERENCES organisations (id),
    -- Copied from the organisation (whose district never changes) so that lists filter and sort on one table.
    district_ags            text NOT NULL REFERENCES districts (ags),
    funding_line_code       text NOT NULL REFERENCES funding_lines (code),
    status                  text NOT NULL DEFAULT 'draft' CHECK (status IN
                                ('draft', 'submitted', 'in_review', 'changes_requested', 'approved', 'rejected',
                                 'withdrawn')),
    title                   text NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    description             text NOT NULL DEFAULT '' CHECK (char_length(description) <= 20000),
    start_date              date,
    end_date                date,
    total_costs_cents       bigint CHECK (total_costs_cents >= 0),
    own_funds_cents         bigint CHECK (own_funds_cents >= 0),
    third_party_funds_cents bigint CHECK (third_party_funds_cents >= 0),
    requested_cents         bigint CHECK (requested_cents >= 0),
    plan_years              jsonb NOT NULL DEFAULT '[]',
    contact_name            text,
    contact_email           text,
    contact_phone           text,
    referral_id             uuid,
    granted_cents           bigint CHECK (granted_cents >= 0),
    decision_reason         text,
    version                 bigint NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    submitted_at            timestamptz,
    decided_at              timestamptz,
    search                  tsvector GENERATED ALWAYS AS
                                (to_tsvector('german', title || ' ' || description)) STORED,
    CONSTRAINT applications_granted_only_when_approved CHECK ((status = 'approved') = (granted_cents IS NOT NULL)),
    CONSTRAINT applications_granted_within_requested CHECK (granted_cents IS NULL OR granted_cents <= requested_cents)
);

-- Keyset orders: every sort is (expression, id); NULLs sort as the smallest value.
CREATE INDEX applications_org_created_idx ON applications (organisation_id, created_at, id);
CREATE INDEX applications_created_idx ON applications (created_at, id);
CREATE INDEX applications_status_line_created_idx ON applications (status, funding_line_code, created_at, id);
CREATE INDEX applications_district_created_idx ON applications (district_ags, created_at, id);
CREATE INDEX applications_submitted_idx ON applications (coalesce(submitted_at, '-infinity'::timestamptz), id);
CREATE INDEX applications_requested_idx ON applications (coalesce(requested_cents, -1), id);
CREATE INDEX applications_title_idx ON applications (title, id);
CREATE INDEX applications_updated_idx ON applications (updated_at);
CREATE INDEX applications_search_idx ON applications USING gin (search);

-- Every change and transition, written in the same transaction as the change itself.
CREATE TABLE application_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id),
    action         text NOT NULL,
    actor_sub      text NOT NULL,
    actor_role     text NOT NULL,
    actor_org_id   uuid,
    from_status    text,
    to_status      text NOT NULL,
    reason         text,
    changed_fields text[] NOT NULL DEFAULT '{}',
    occurred_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_history_application_idx ON application_history (application_id, id);

CREATE TABLE application_comments (
    id             uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    application_id uuid NOT NULL REFERENCES applications (id),
    author_sub     text NOT NULL,
    author_role    text NOT NULL,
    author_org_id  uuid,
    body           text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 10000),
    internal       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_comments_application_idx ON application_comments (application_id, id);

-- Idempotency-Key: the first response to a POST, replayed for the same key and body for 24 hours. Keys belong to
-- the caller (role, subject, organisation), so that two callers cannot collide or read each other's responses.
CREATE TABLE idempotency_keys (
    caller        text NOT NULL,
    key           text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}',
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
