-- Review of 000034/000035 (docs/performance.md S1, S2):
-- 1. The statistics' triggers run at commit (deferred constraint triggers): a busy group's row in `funding_stats`
--    is then locked for the commit only, not for the whole writing transaction; and an application's UPDATE wakes
--    them only when a column a figure or group depends on really changed (a PATCH rewrites the line and the
--    requested amount with the same values).
-- 2. Recovery claims are found by application through an index (each refresh looked them up by a full scan), and
--    one subquery gives both of their sums.
-- 3. A subtraction that finds no group row raises instead of passing silently: the kept figures never drift.
-- 4. The feed's audiences are written by the sequencer's own statement (src/audit/outbox.rs), not by triggers that
--    ran on every event insert; a numbered event's audience columns can no longer change.

CREATE INDEX recovery_claims_application ON recovery_claims (application_id) INCLUDE (status);

CREATE OR REPLACE FUNCTION application_contribution(app uuid)
RETURNS TABLE (funding_line_code text, district_ags text, status text, year integer, shard smallint,
               requested_cents bigint, granted_cents bigint, paid_cents bigint, admitted_cents bigint,
               reclaimed_cents bigint, interest_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.funding_line_code, a.district_ags, a.status,
           extract(year FROM coalesce(a.submitted_at, a.created_at) AT TIME ZONE 'Europe/Berlin')::int,
           (abs(hashtext(a.id::text)) % 8)::smallint,
           coalesce(a.requested_cents, 0),
           coalesce(g.committed, a.granted_cents, 0)::bigint,
           coalesce(g.paid, 0)::bigint,
           coalesce((SELECT sum(u.admitted_cents) FROM proofs_of_use u
                     WHERE u.application_id = a.id AND u.status = 'accepted'), 0)::bigint,
           coalesce(c.reclaimed, 0)::bigint,
           coalesce(c.interest, 0)::bigint
    FROM applications a
    LEFT JOIN LATERAL (SELECT sum(committed_cents) AS committed, sum(paid_cents) AS paid
                       FROM grant_years WHERE application_id = a.id) g ON true
    LEFT JOIN LATERAL (SELECT sum(principal_cents) AS reclaimed,
                              sum(coalesce(interest_cents, 0) + late_use_interest_cents) AS interest
                       FROM recovery_claims
                       WHERE application_id = a.id AND recovery_claims.status IN ('decided', 'paid', 'in_instalments')) c
           ON true
    WHERE a.id = app
$$;

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
        IF NOT FOUND THEN
            RAISE EXCEPTION 'funding_stats has no group for application %', r.application_id
                USING ERRCODE = 'XX000';
        END IF;
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

DROP TRIGGER applications_stats ON applications;
DROP TRIGGER grant_years_stats ON grant_years;
DROP TRIGGER proofs_of_use_stats ON proofs_of_use;
DROP TRIGGER recovery_claims_stats ON recovery_claims;

CREATE CONSTRAINT TRIGGER applications_stats_insert_delete AFTER INSERT OR DELETE ON applications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION applications_stats_trigger();
CREATE CONSTRAINT TRIGGER applications_stats_update AFTER UPDATE ON applications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.funding_line_code, OLD.district_ags, OLD.status, OLD.submitted_at, OLD.created_at,
           OLD.requested_cents, OLD.granted_cents)
          IS DISTINCT FROM (NEW.funding_line_code, NEW.district_ags, NEW.status, NEW.submitted_at, NEW.created_at,
                            NEW.requested_cents, NEW.granted_cents))
    EXECUTE FUNCTION applications_stats_trigger();
CREATE CONSTRAINT TRIGGER grant_years_stats AFTER INSERT OR DELETE OR UPDATE ON grant_years
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE CONSTRAINT TRIGGER proofs_of_use_stats AFTER INSERT OR DELETE OR UPDATE ON proofs_of_use
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE CONSTRAINT TRIGGER recovery_claims_stats AFTER INSERT OR DELETE OR UPDATE ON recovery_claims
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();

-- The audiences: written by the sequencer from now on.
DROP TRIGGER events_audience_sequenced ON events;
DROP TRIGGER events_audience_inserted ON events;
DROP FUNCTION event_audience_sequenced();
DROP FUNCTION event_audience_inserted();

CREATE FUNCTION events_audience_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a numbered event keeps its position and audience (event %)', OLD.id USING ERRCODE = 'XX000';
END;
$$;
CREATE TRIGGER events_audience_fixed BEFORE UPDATE ON events FOR EACH ROW
    WHEN (OLD.position IS NOT NULL
          AND (OLD.position, OLD.public, OLD.org_ids, OLD.districts, OLD.staff_only)
              IS DISTINCT FROM (NEW.position, NEW.public, NEW.org_ids, NEW.districts, NEW.staff_only))
    EXECUTE FUNCTION events_audience_fixed();
