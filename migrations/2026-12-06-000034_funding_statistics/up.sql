-- The funding statistics answer from aggregates kept in the same transaction as every change (docs/performance.md):
-- `funding_stats` holds the figures per funding line, district, status and year, spread over 8 shards so that
-- concurrent writes to one group (one district's drafts of one line) do not queue on one row; a request sums the
-- shards. `application_stats` keeps what each application contributes now, so that a change subtracts exactly what
-- was added before. Triggers on every table a figure comes from keep both exact; the definitions are the ones the
-- full recount used (tests/api/statistics.rs compares them after a randomised concurrent workload).

CREATE TABLE funding_stats (
    funding_line_code text NOT NULL,
    district_ags text NOT NULL,
    status text NOT NULL,
    year integer NOT NULL,
    shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 7),
    n bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
    requested_cents bigint NOT NULL DEFAULT 0 CHECK (requested_cents >= 0),
    granted_cents bigint NOT NULL DEFAULT 0 CHECK (granted_cents >= 0),
    paid_cents bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    admitted_cents bigint NOT NULL DEFAULT 0 CHECK (admitted_cents >= 0),
    reclaimed_cents bigint NOT NULL DEFAULT 0 CHECK (reclaimed_cents >= 0),
    interest_cents bigint NOT NULL DEFAULT 0 CHECK (interest_cents >= 0),
    PRIMARY KEY (funding_line_code, district_ags, status, year, shard)
);

CREATE TABLE application_stats (
    -- No foreign key: when an application is deleted, its trigger still needs this row to subtract it.
    application_id uuid PRIMARY KEY,
    funding_line_code text NOT NULL,
    district_ags text NOT NULL,
    status text NOT NULL,
    year integer NOT NULL,
    shard smallint NOT NULL,
    requested_cents bigint NOT NULL,
    granted_cents bigint NOT NULL,
    paid_cents bigint NOT NULL,
    admitted_cents bigint NOT NULL,
    reclaimed_cents bigint NOT NULL,
    interest_cents bigint NOT NULL
);

-- What one application contributes now (no row: it does not exist). The same expressions as the recount:
-- requested; granted as its grant years commit (else the decision's amount); paid; admitted by accepted proofs of
-- use; reclaimed and interest of decided, paid or instalment recovery claims; the year it was submitted in (drafts:
-- created), in Hessen's time zone.
CREATE FUNCTION application_contribution(app uuid)
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

-- Adds (+1) or subtracts (-1) one application's contribution to its group. Subtraction updates the row that the
-- addition made (an INSERT with negative figures would fail the CHECKs before ON CONFLICT is considered).
CREATE FUNCTION apply_application_stats(r application_stats, sign integer) RETURNS void
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

-- Brings one application's share of `funding_stats` up to date: subtracts the stored contribution and adds the
-- current one, the two groups in the order of their keys (two transactions touching the same two groups lock them
-- in one order, so they cannot deadlock on them).
CREATE FUNCTION refresh_application_stats(app uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    prev application_stats%ROWTYPE;
    cur application_stats%ROWTYPE;
BEGIN
    SELECT * INTO prev FROM application_stats WHERE application_id = app FOR UPDATE;
    SELECT app, c.* INTO cur FROM application_contribution(app) c;
    IF prev IS NOT DISTINCT FROM cur THEN
        RETURN;
    END IF;
    IF prev.application_id IS NOT NULL AND cur.application_id IS NOT NULL
       AND (cur.funding_line_code, cur.district_ags, cur.status, cur.year, cur.shard)
           < (prev.funding_line_code, prev.district_ags, prev.status, prev.year, prev.shard) THEN
        PERFORM apply_application_stats(cur, 1);
        PERFORM apply_application_stats(prev, -1);
    ELSE
        IF prev.application_id IS NOT NULL THEN
            PERFORM apply_application_stats(prev, -1);
        END IF;
        IF cur.application_id IS NOT NULL THEN
            PERFORM apply_application_stats(cur, 1);
        END IF;
    END IF;
    IF cur.application_id IS NULL THEN
        DELETE FROM application_stats WHERE application_id = app;
    ELSE
        INSERT INTO application_stats SELECT cur.*
        ON CONFLICT (application_id) DO UPDATE SET
            funding_line_code = excluded.funding_line_code, district_ags = excluded.district_ags,
            status = excluded.status, year = excluded.year, shard = excluded.shard,
            requested_cents = excluded.requested_cents, granted_cents = excluded.granted_cents,
            paid_cents = excluded.paid_cents, admitted_cents = excluded.admitted_cents,
            reclaimed_cents = excluded.reclaimed_cents, interest_cents = excluded.interest_cents;
    END IF;
END;
$$;

-- Each source table names the application(s) a change touches.
CREATE FUNCTION applications_stats_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- The application's own row is gone: subtract what it contributed.
        PERFORM refresh_application_stats(OLD.id);
        RETURN OLD;
    END IF;
    PERFORM refresh_application_stats(NEW.id);
    RETURN NEW;
END;
$$;

CREATE FUNCTION child_stats_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_application_stats(OLD.application_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.application_id IS DISTINCT FROM OLD.application_id) THEN
        PERFORM refresh_application_stats(NEW.application_id);
    END IF;
    RETURN NULL;
END;
$$;

-- Only the columns a figure or a group depends on wake the trigger: other edits (title, description, contact) cost
-- nothing extra.
CREATE TRIGGER applications_stats AFTER INSERT OR DELETE OR UPDATE OF funding_line_code, district_ags, status,
    submitted_at, created_at, requested_cents, granted_cents ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_stats_trigger();
CREATE TRIGGER grant_years_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, committed_cents, paid_cents
    ON grant_years FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE TRIGGER proofs_of_use_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, status, admitted_cents
    ON proofs_of_use FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();
CREATE TRIGGER recovery_claims_stats AFTER INSERT OR DELETE OR UPDATE OF application_id, status, principal_cents,
    interest_cents, late_use_interest_cents ON recovery_claims FOR EACH ROW EXECUTE FUNCTION child_stats_trigger();

-- The figures of the data already there.
INSERT INTO application_stats
SELECT a.id, c.* FROM applications a CROSS JOIN LATERAL application_contribution(a.id) c;
INSERT INTO funding_stats (funding_line_code, district_ags, status, year, shard, n, requested_cents, granted_cents,
                           paid_cents, admitted_cents, reclaimed_cents, interest_cents)
SELECT funding_line_code, district_ags, status, year, shard, count(*), sum(requested_cents), sum(granted_cents),
       sum(paid_cents), sum(admitted_cents), sum(reclaimed_cents), sum(interest_cents)
FROM application_stats GROUP BY funding_line_code, district_ags, status, year, shard;
