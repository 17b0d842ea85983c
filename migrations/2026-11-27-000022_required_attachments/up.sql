-- The documents a funding line requires before an application is submitted (categories of core::documents); the
-- submission refuses an application without a file of each (422, one error per missing category).
ALTER TABLE funding_lines ADD COLUMN required_attachments text[] NOT NULL DEFAULT '{}'
    CHECK (required_attachments <@ ARRAY['kostenplan', 'konzept', 'satzung', 'stellenbeschreibung', 'sonstiges']);
