-- Beratungen: the service unit's log of consultations with municipalities. The summary and the follow-ups are the
-- municipality's to read; the internal notes are the service unit's and the ministry's only.
CREATE TABLE consultations (
    id              uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    -- The organisation's district (which never changes), for filters and visibility.
    district_ags    text NOT NULL REFERENCES districts (ags),
    held_on         date NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('phone', 'email', 'video', 'in_person', 'on_site', 'event')),
    topics          text[] NOT NULL DEFAULT '{}',
    summary         text NOT NULL CHECK (char_length(summary) BETWEEN 3 AND 10000),
    internal_notes  text NOT NULL DEFAULT '' CHECK (char_length(internal_notes) <= 20000),
    follow_ups      jsonb NOT NULL DEFAULT '[]',
    referral_ids    uuid[] NOT NULL DEFAULT '{}',
    application_ids uuid[] NOT NULL DEFAULT '{}',
    author          text NOT NULL,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consultations_held_idx ON consultations (held_on DESC, id DESC);
CREATE INDEX consultations_organisation_idx ON consultations (organisation_id, held_on DESC, id DESC);
CREATE INDEX consultations_topics_idx ON consultations USING gin (topics);
