-- The audiences of an event, in one place: the sequencer's numbering statement (src/audit/outbox.rs) and the
-- benchmark's seed (bench/seed.sql) both expand `public`, `org_ids` and `districts` through this function, so the
-- rule of who may see an event is written once beside the feed's OR filter (src/events/store.rs).
CREATE FUNCTION event_audiences(is_public boolean, org_ids uuid[], districts text[]) RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'public' WHERE is_public
    UNION ALL SELECT 'o:' || o FROM unnest(org_ids) o
    UNION ALL SELECT 'd:' || d FROM unnest(districts) d
$$;
