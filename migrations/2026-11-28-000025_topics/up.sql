-- Themen: the service unit's controlled, hierarchical vocabulary. Committees and referrals carry topic codes instead
-- of free text from now on; the free texts they had are mapped here: a text whose title (case-insensitively) or
-- whose slug is a topic's becomes that topic, every other text becomes a new topic of its own (the service unit
-- merges what is the same).
CREATE TABLE topics (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(code) <= 60),
    title text NOT NULL CHECK (char_length(title) BETWEEN 2 AND 200),
    parent text REFERENCES topics (code) CHECK (parent <> code),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    -- A topic merged into another is archived and names it.
    merged_into text REFERENCES topics (code) CHECK (merged_into <> code),
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT topics_merged_archived CHECK (merged_into IS NULL OR status = 'archived')
);
CREATE INDEX topics_parent ON topics (parent, code);
CREATE UNIQUE INDEX topics_title ON topics (lower(title)) WHERE status = 'active';

-- The fields the guideline, the service unit's page and the programme name.
INSERT INTO topics (code, title, parent) VALUES
    ('versorgungsplanung', 'Versorgungsplanung', NULL),
    ('sektorenuebergreifende-versorgung', 'Sektorenübergreifende Versorgung', NULL),
    ('gesundheitszentren', 'Gesundheitszentren', NULL),
    ('telemedizin', 'Telemedizin und digitale Lösungen', NULL),
    ('nachwuchsgewinnung', 'Nachwuchsgewinnung', NULL),
    ('praevention', 'Prävention und Gesundheitsförderung', NULL),
    ('pflege', 'Pflege', NULL),
    ('oegd', 'Öffentlicher Gesundheitsdienst (ÖGD)', NULL),
    ('laendliche-versorgung', 'Ländliche Versorgung', NULL),
    ('notfallversorgung', 'Notfallversorgung', NULL),
    ('mobilitaet', 'Mobilität und Erreichbarkeit', NULL),
    ('gesundheitskoordination', 'Gesundheitskoordination', 'versorgungsplanung'),
    ('versorgungsanalyse', 'Versorgungsanalysen', 'versorgungsplanung'),
    ('hausaerztliche-versorgung', 'Hausärztliche Versorgung', 'versorgungsplanung'),
    ('fachaerztliche-versorgung', 'Fachärztliche Versorgung', 'versorgungsplanung'),
    ('praxisuebernahme', 'Praxisgründung und -übernahme', 'nachwuchsgewinnung'),
    ('modellprojekte', 'Modellprojekte', 'sektorenuebergreifende-versorgung'),
    ('telemedizinische-fallkonferenzen', 'Telemedizinische Fallkonferenzen', 'telemedizin');

-- A text's slug; one longer than 60 characters is cut to 51 and given 8 characters of the text's hash, so that two
-- long texts with the same beginning stay two topics.
CREATE FUNCTION topic_slug(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN char_length(s) <= 60 THEN s
                ELSE trim(both '-' FROM left(s, 51)) || '-' || left(md5(t), 8) END
    FROM (SELECT trim(both '-' FROM regexp_replace(
        replace(replace(replace(replace(lower(t), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss'),
        '[^a-z0-9]+', '-', 'g')) AS s) slugged
$$;

CREATE TEMPORARY TABLE topic_texts AS
    SELECT DISTINCT t AS text FROM (
        SELECT unnest(topics) AS t FROM committees
        UNION SELECT unnest(topics) FROM referrals
    ) all_texts
    WHERE char_length(trim(t)) > 0;
CREATE TEMPORARY TABLE topic_map (text text PRIMARY KEY, code text NOT NULL);
-- Titles and slugs that name a topic already.
INSERT INTO topic_map
    SELECT x.text, t.code FROM topic_texts x
    JOIN topics t ON lower(t.title) = lower(trim(x.text)) OR t.code = topic_slug(x.text)
    ON CONFLICT DO NOTHING;
-- Every other text: a topic of its own (a slug that says nothing gets a stable one from the text's hash).
INSERT INTO topics (code, title)
    -- A one-character text is kept too: its title is padded to the two characters a title needs.
    SELECT DISTINCT ON (slug) slug,
           CASE WHEN char_length(trim(text)) < 2 THEN trim(text) || '.' ELSE left(trim(text), 200) END
    FROM (
        SELECT x.text, CASE WHEN topic_slug(x.text) ~ '^[a-z0-9]+(-[a-z0-9]+)*$' THEN topic_slug(x.text)
                            ELSE 'thema-' || left(md5(x.text), 8) END AS slug
        FROM topic_texts x WHERE NOT EXISTS (SELECT 1 FROM topic_map m WHERE m.text = x.text)
    ) fresh
    ORDER BY slug, text
    ON CONFLICT DO NOTHING;
INSERT INTO topic_map
    SELECT x.text, t.code FROM topic_texts x
    JOIN topics t ON t.code = CASE WHEN topic_slug(x.text) ~ '^[a-z0-9]+(-[a-z0-9]+)*$' THEN topic_slug(x.text)
                                   ELSE 'thema-' || left(md5(x.text), 8) END
    ON CONFLICT DO NOTHING;

-- The rewritten records move their version (ETags and updatedSince see the change).
UPDATE committees c SET topics = ARRAY(
    SELECT m.code FROM unnest(c.topics) WITH ORDINALITY AS u(text, n) JOIN topic_map m ON m.text = u.text
    GROUP BY m.code ORDER BY min(u.n)), version = version + 1, updated_at = now()
WHERE cardinality(c.topics) > 0;
UPDATE referrals r SET topics = ARRAY(
    SELECT m.code FROM unnest(r.topics) WITH ORDINALITY AS u(text, n) JOIN topic_map m ON m.text = u.text
    GROUP BY m.code ORDER BY min(u.n)), version = version + 1, updated_at = now()
WHERE cardinality(r.topics) > 0;
DROP FUNCTION topic_slug(text);
DROP TABLE topic_map;
DROP TABLE topic_texts;

-- Lists filter by topic (and its sub-topics) with an index.
CREATE INDEX committees_topics ON committees USING gin (topics);
CREATE INDEX referrals_topics ON referrals USING gin (topics);
