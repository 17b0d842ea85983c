-- What an event is about, for the subscriptions by topic, district and committee: its resource's topic codes with
-- their ancestors (a filter on a topic finds its sub-topics), the districts it concerns, and the committees.
ALTER TABLE events
    ADD COLUMN topics text[] NOT NULL DEFAULT '{}',
    ADD COLUMN about_districts text[] NOT NULL DEFAULT '{}',
    ADD COLUMN committee_ids uuid[] NOT NULL DEFAULT '{}';

-- The events written before: the same rules as the service's, in SQL.
WITH subject AS (
    SELECT e.id,
           ARRAY(WITH RECURSIVE up(code, parent) AS (
                     SELECT t.code, t.parent FROM topics t
                     WHERE t.code IN (SELECT jsonb_array_elements_text(
                         CASE WHEN jsonb_typeof(e.data -> 'topics') = 'array' THEN e.data -> 'topics' ELSE '[]' END))
                     UNION SELECT t.code, t.parent FROM topics t JOIN up ON t.code = up.parent)
                 SELECT code FROM up) AS topics,
           ARRAY(SELECT DISTINCT d FROM (
                     SELECT unnest(e.districts) AS d
                     UNION ALL SELECT o.district_ags FROM organisations o WHERE o.id = ANY (e.org_ids)
                     UNION ALL SELECT e.data ->> 'district'
                     UNION ALL SELECT e.data -> 'origin' ->> 'district'
                     UNION ALL SELECT x ->> 'district' FROM jsonb_array_elements(
                         CASE WHEN jsonb_typeof(e.data -> 'targets') = 'array' THEN e.data -> 'targets' ELSE '[]' END) x
                     UNION ALL SELECT jsonb_array_elements_text(
                         CASE WHEN jsonb_typeof(e.data -> 'coverage' -> 'districts') = 'array'
                              THEN e.data -> 'coverage' -> 'districts' ELSE '[]' END)
                 ) ds WHERE d ~ '^06[0-9]{3}$') AS districts,
           ARRAY(SELECT DISTINCT c::uuid FROM (
                     SELECT CASE WHEN e.resource_kind = 'committee' THEN e.resource_id::text END AS c
                     UNION ALL SELECT e.data ->> 'committeeId'
                     UNION ALL SELECT e.data ->> 'assigneeCommitteeId'
                     UNION ALL SELECT e.data -> 'origin' -> 'committee' ->> 'id'
                     UNION ALL SELECT x -> 'committee' ->> 'id' FROM jsonb_array_elements(
                         CASE WHEN jsonb_typeof(e.data -> 'targets') = 'array' THEN e.data -> 'targets' ELSE '[]' END) x
                 ) cs WHERE c ~ '^[0-9a-f-]{36}$') AS committees
    FROM events e
)
UPDATE events e SET topics = s.topics, about_districts = s.districts, committee_ids = s.committees
FROM subject s WHERE s.id = e.id;

CREATE INDEX events_topics_idx ON events USING gin (topics);
CREATE INDEX events_about_districts_idx ON events USING gin (about_districts);
CREATE INDEX events_committees_idx ON events USING gin (committee_ids);

ALTER TABLE webhooks
    ADD COLUMN topics text[] NOT NULL DEFAULT '{}',
    ADD COLUMN districts text[] NOT NULL DEFAULT '{}',
    ADD COLUMN committee_ids uuid[] NOT NULL DEFAULT '{}';
