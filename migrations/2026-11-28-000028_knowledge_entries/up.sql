-- Wissensfundament: the service unit's knowledge base. Good practice from funded projects, FAQs, guidance, contact
-- pointers and lessons learned, each reviewed before it is published, each visible to staff only (internal), to
-- every signed-in role (network) or to anyone (public). German full-text search over title and body.
CREATE TABLE knowledge_entries (
    id uuid PRIMARY KEY,
    kind text NOT NULL
        CHECK (kind IN ('good_practice', 'faq', 'guidance', 'contact_pointer', 'lesson_learned')),
    title text NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    body text NOT NULL DEFAULT '' CHECK (char_length(body) <= 20000),
    topics text[] NOT NULL DEFAULT '{}',
    visibility text NOT NULL CHECK (visibility IN ('internal', 'network', 'public')),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'in_review', 'published', 'archived')),
    -- The funded projects the entry draws on.
    application_ids uuid[] NOT NULL DEFAULT '{}',
    -- When the entry is to be checked again (a duty in /obligations once it is published).
    review_due_on date,
    author text NOT NULL,
    published_at timestamptz,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Title before body in the ranking; German stemming ("Praxen" finds "Praxis").
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('german', title), 'A') || setweight(to_tsvector('german', body), 'B')) STORED,
    CONSTRAINT knowledge_published_at CHECK ((status IN ('published', 'archived')) = (published_at IS NOT NULL)
        OR status = 'archived')
);
CREATE INDEX knowledge_entries_search ON knowledge_entries USING gin (search);
CREATE INDEX knowledge_entries_topics ON knowledge_entries USING gin (topics);
CREATE INDEX knowledge_entries_status ON knowledge_entries (status, visibility, id);
