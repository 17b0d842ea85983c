-- The feed by audience (docs/performance.md): which sequenced events each kind of non-staff reader may see, as
-- (audience, position) pairs, so that a municipality's page is read from an index in position order instead of by
-- scanning every position for the few it may see. Audiences: 'public', 'o:<organisation id>', 'd:<district AGS>'
-- (the same rules as `events.public`, `org_ids` and `districts`); staff-only events have no rows. Kept by statement
-- triggers when an event gets its position (the sequencer) or is written with one (a data load).
CREATE TABLE event_audience (
    audience text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (audience, position)
);

CREATE FUNCTION event_audience_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_audience (audience, position)
    SELECT k.audience, n.position
    FROM new_rows n
    CROSS JOIN LATERAL (SELECT 'public' WHERE n.public
                        UNION ALL SELECT 'o:' || o FROM unnest(n.org_ids) o
                        UNION ALL SELECT 'd:' || d FROM unnest(n.districts) d) k(audience)
    WHERE n.position IS NOT NULL AND NOT n.staff_only
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE FUNCTION event_audience_sequenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_audience (audience, position)
    SELECT k.audience, n.position
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    CROSS JOIN LATERAL (SELECT 'public' WHERE n.public
                        UNION ALL SELECT 'o:' || x FROM unnest(n.org_ids) x
                        UNION ALL SELECT 'd:' || d FROM unnest(n.districts) d) k(audience)
    WHERE n.position IS NOT NULL AND o.position IS NULL AND NOT n.staff_only
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_audience_inserted AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION event_audience_inserted();
CREATE TRIGGER events_audience_sequenced AFTER UPDATE ON events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION event_audience_sequenced();

INSERT INTO event_audience (audience, position)
SELECT k.audience, e.position
FROM events e
CROSS JOIN LATERAL (SELECT 'public' WHERE e.public
                    UNION ALL SELECT 'o:' || o FROM unnest(e.org_ids) o
                    UNION ALL SELECT 'd:' || d FROM unnest(e.districts) d) k(audience)
WHERE e.position IS NOT NULL AND NOT e.staff_only
ON CONFLICT DO NOTHING;
