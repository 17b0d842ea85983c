-- A change's audit record in one call (src/audit/outbox.rs, docs/performance.md S5): its history entry (when it has
-- one) and its event, with the topics' ancestors and the audience organisations' districts added.
--
-- Why a function: as one prepared statement, PostgreSQL planned the event's insert anew on every execution (its
-- estimates for the array parameters made each custom plan look cheaper than the generic one: 0.3 ms of planning
-- per change). A PL/pgSQL function keeps its statements' plans for the session, and `plan_cache_mode` pins them to
-- the generic plan, which is the right one for every call: single-row inserts and lookups by primary key or by
-- `= ANY` of a handful of keys.
CREATE FUNCTION record_change(
    _type text, _kind text, _resource uuid, _actor_sub text, _actor_role text, _actor_org uuid,
    _public boolean, _org_ids uuid[], _districts text[], _staff_only boolean, _data jsonb,
    _topics text[], _about_districts text[], _committee_ids uuid[],
    _action text, _from_status text, _to_status text, _reason text, _changed text[], _document_id uuid,
    _document_sha256 text)
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- No action: a change without a history entry (an append whose own rows are its history, the feed's backfill).
    IF _action IS NOT NULL THEN
        INSERT INTO history (resource_kind, resource_id, actor_sub, actor_role, actor_org_id, action, from_status,
                             to_status, reason, changed_fields, document_id, document_sha256)
        VALUES (_kind, _resource, _actor_sub, _actor_role, _actor_org, _action, _from_status, _to_status, _reason,
                _changed, _document_id, _document_sha256);
    END IF;
    INSERT INTO events (type, resource_kind, resource_id, actor_sub, actor_role, actor_org_id, public, org_ids,
                        districts, staff_only, data, topics, about_districts, committee_ids)
    VALUES (_type, _kind, _resource, _actor_sub, _actor_role, _actor_org, _public, _org_ids, _districts, _staff_only,
            _data,
            ARRAY(WITH RECURSIVE up(code, parent) AS (
                      SELECT t.code, t.parent FROM topics t WHERE t.code = ANY (_topics)
                      UNION SELECT t.code, t.parent FROM topics t JOIN up ON t.code = up.parent)
                  SELECT up.code FROM up),
            ARRAY(SELECT DISTINCT ds.d FROM (SELECT unnest(_about_districts) AS d
                  UNION ALL SELECT o.district_ags FROM organisations o WHERE o.id = ANY (_org_ids)) ds),
            _committee_ids);
END;
$$;
