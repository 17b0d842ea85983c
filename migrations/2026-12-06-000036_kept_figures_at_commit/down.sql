DROP TRIGGER events_audience_fixed ON events;
DROP FUNCTION events_audience_fixed();
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


DROP TRIGGER recovery_claims_stats ON recovery_claims;
DROP TRIGGER proofs_of_use_stats ON proofs_of_use;
DROP TRIGGER grant_years_stats ON grant_years;
DROP TRIGGER applications_stats_update ON applications;
DROP TRIGGER applications_stats_insert_delete ON applications;
CREATE TRIGGER applications_stats AFTER INSERT OR DELETE OR UPDATE OF funding_line_code, district_ags, status,
    submitted_at, created_at, requested_cents, granted_cents ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_stats_trigger();
CREATE TRIGGER grant_years_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, committed_cents, paid_cents
    ON grant_years FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE TRIGGER proofs_of_use_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, status, admitted_cents
    ON proofs_of_use FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE TRIGGER recovery_claims_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, status, principal_cents,
    interest_cents, late_use_interest_cents ON recovery_claims FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();

CREATE OR REPLACE FUNCTION apply_application_stats(r application_stats, sign integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF sign < 0 THEN
        UPDATE funding_stats SET n = n - 1, requested_cents = requested_cents - r.requested_cents,
            granted_cents = granted_cents - r.granted_cents, paid_cents = paid_cents - r.paid_cents,
            admitted_cents = admitted_cents - r.admitted_cents, reclaimed_cents = reclaimed_cents - r.reclaimed_cents,
            interest_cents = interest_cents - r.interest_cents
        WHERE funding_line_code = r.funding_line_code AND district_ags = r.district_ags AND status = r.status
          AND year = r.year AND shard = r.shard;
    ELSE
        INSERT INTO funding_stats AS s (funding_line_code, district_ags, status, year, shard, n, requested_cents,
                                        granted_cents, paid_cents, admitted_cents, reclaimed_cents, interest_cents)
        VALUES (r.funding_line_code, r.district_ags, r.status, r.year, r.shard, 1, r.requested_cents,
                r.granted_cents, r.paid_cents, r.admitted_cents, r.reclaimed_cents, r.interest_cents)
        ON CONFLICT (funding_line_code, district_ags, status, year, shard) DO UPDATE SET
            n = s.n + 1,
            requested_cents = s.requested_cents + excluded.requested_cents,
            granted_cents = s.granted_cents + excluded.granted_cents,
            paid_cents = s.paid_cents + excluded.paid_cents,
            admitted_cents = s.admitted_cents + excluded.admitted_cents,
            reclaimed_cents = s.reclaimed_cents + excluded.reclaimed_cents,
            interest_cents = s.interest_cents + excluded.interest_cents;
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION application_contribution(app uuid)
RETURNS TABLE (funding_line_code text, district_ags text, status text, year integer, shard smallint,
               requested_cents bigint, granted_cents bigint, paid_cents bigint, admitted_cents bigint,
               reclaimed_cents bigint, interest_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.funding_line_code, a.district_ags, a.status,
           extract(year FROM coalesce(a.submitted_at, a.created_at) AT TIME ZONE 'Europe/Berlin')::int,
           (abs(hashtext(a.id::text)) % 8)::smallint,
           coalesce(a.requested_cents, 0),
           coalesce((SELECT sum(g.committed_cents) FROM grant_years g WHERE g.application_id = a.id),
                    a.granted_cents, 0)::bigint,
           coalesce((SELECT sum(g.paid_cents) FROM grant_years g WHERE g.application_id = a.id), 0)::bigint,
           coalesce((SELECT sum(u.admitted_cents) FROM proofs_of_use u
                     WHERE u.application_id = a.id AND u.status = 'accepted'), 0)::bigint,
           coalesce((SELECT sum(c.principal_cents) FROM recovery_claims c
                     WHERE c.application_id = a.id AND c.status IN ('decided', 'paid', 'in_instalments')), 0)::bigint,
           coalesce((SELECT sum(coalesce(c.interest_cents, 0) + c.late_use_interest_cents) FROM recovery_claims c
                     WHERE c.application_id = a.id AND c.status IN ('decided', 'paid', 'in_instalments')), 0)::bigint
    FROM applications a WHERE a.id = app
$$;

DROP INDEX recovery_claims_application;
