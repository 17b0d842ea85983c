-- Escrow of the funding lines' budgets (docs/decisions.md, docs/performance.md S8).
--
-- Why: every approval of a line committed its grant on the line's row and its fiscal years' rows and held those
-- row locks until its commit, so the approvals of one line ran one commit at a time (a WAL flush, the statistics'
-- deferred triggers and the line's event each): about 120 per second, whatever the number of cores or instances.
--
-- What: a level's budget (a line's total, year 0, or one fiscal year of it) is split into eight shards. A shard has
-- an allotment (its part of the budget) and what is committed in it; a grant always commits in the shard of its
-- application (the statistics' shard, `escrow_shard`), so its releases, amendments and settlement find it there.
-- Approvals of different shards no longer wait for each other. When a shard's allotment does not cover a grant,
-- `escrow_rebalance` locks the level's budget row and all its shards (in shard order) and spreads what the budget
-- leaves free anew; only when that does not cover it is the grant refused. A budget change spreads it the same way.
--
-- The invariant: Σ committed ≤ Σ allotted ≤ budget per level. The first inequality is a CHECK per shard; the
-- second is kept by the only two writers of allotments (rebalance, in the budget change's trigger or an approval)
-- under the locks of the budget row and every shard, and re-checked at commit by a deferred constraint trigger.
--
-- The tables keep their names for every reader: `funding_lines` and `funding_line_years` become (automatically
-- updatable) views of the stored rows with `committed_cents` summed from the shards; inserts, updates, deletes and
-- row locks go through to the stored rows, whose foreign keys, constraints and triggers stay as they were.

ALTER TABLE funding_lines RENAME TO funding_lines_stored;
ALTER TABLE funding_line_years RENAME TO funding_line_years_stored;

-- The shard of an application's grant: its id's last byte (random in a UUIDv7), so that it is the same on every
-- PostgreSQL version and platform (a hash function may change between major versions; a grant must find its
-- commitment in the same shard for as long as it exists).
CREATE FUNCTION escrow_shard(app uuid) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (get_byte(uuid_send(app), 15) % 8)::smallint $$;

CREATE TABLE budget_shards (
    funding_line_code text NOT NULL REFERENCES funding_lines_stored (code) ON DELETE CASCADE,
    -- 0: the line's total over all years; otherwise the fiscal year.
    year integer NOT NULL CHECK (year = 0 OR year BETWEEN 2000 AND 2100),
    shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 7),
    allotted_cents bigint NOT NULL CHECK (allotted_cents >= 0),
    committed_cents bigint NOT NULL DEFAULT 0 CHECK (committed_cents >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- A year's shards belong to a stored fiscal year (NULL for the line's total: not checked).
    fiscal_year integer GENERATED ALWAYS AS (nullif(year, 0)) STORED,
    PRIMARY KEY (funding_line_code, year, shard),
    FOREIGN KEY (funding_line_code, fiscal_year) REFERENCES funding_line_years_stored (funding_line_code, year)
        ON DELETE CASCADE,
    CONSTRAINT budget_shards_committed_within_allotment CHECK (committed_cents <= allotted_cents)
);

-- The shards as they are now: each grant's years in its application's shard; the line's total likewise, with what
-- the line had committed beyond its grants' years (grants approved before fiscal years, seeded figures) in shard 0.
-- Each shard is allotted what it commits; what the budget leaves free is spread by the first rebalance below.
INSERT INTO budget_shards (funding_line_code, year, shard, allotted_cents, committed_cents)
SELECT y.funding_line_code, y.year, s.shard, coalesce(g.committed, 0), coalesce(g.committed, 0)
FROM funding_line_years_stored y
CROSS JOIN generate_series(0, 7) AS s(shard)
LEFT JOIN LATERAL (SELECT sum(gy.committed_cents)::bigint AS committed FROM grant_years gy
                   WHERE gy.funding_line_code = y.funding_line_code AND gy.year = y.year
                     AND escrow_shard(gy.application_id) = s.shard) g ON true;
INSERT INTO budget_shards (funding_line_code, year, shard, allotted_cents, committed_cents)
SELECT l.code, 0, s.shard, coalesce(g.committed, 0), coalesce(g.committed, 0)
FROM funding_lines_stored l
CROSS JOIN generate_series(0, 7) AS s(shard)
LEFT JOIN LATERAL (SELECT sum(gy.committed_cents)::bigint AS committed FROM grant_years gy
                   WHERE gy.funding_line_code = l.code AND escrow_shard(gy.application_id) = s.shard) g ON true;
-- What the stored rows committed beyond the grants' years goes to shard 0. Less than the grants' years would mean the
-- ledger was already wrong: the migration stops rather than carry it on (a grant's release would later find its
-- shard short).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM funding_lines_stored l
               WHERE l.committed_cents < (SELECT coalesce(sum(x.committed_cents), 0) FROM budget_shards x
                                          WHERE x.funding_line_code = l.code AND x.year = 0))
       OR EXISTS (SELECT 1 FROM funding_line_years_stored y
                  WHERE y.committed_cents < (SELECT coalesce(sum(x.committed_cents), 0) FROM budget_shards x
                                             WHERE x.funding_line_code = y.funding_line_code AND x.year = y.year))
    THEN
        RAISE EXCEPTION 'a funding line or fiscal year commits less than its grants: the ledger needs repair first';
    END IF;
END;
$$;
UPDATE budget_shards b SET committed_cents = b.committed_cents + d.extra, allotted_cents = b.committed_cents + d.extra
FROM (SELECT l.code, 0 AS year,
             l.committed_cents - (SELECT coalesce(sum(x.committed_cents), 0) FROM budget_shards x
                                  WHERE x.funding_line_code = l.code AND x.year = 0) AS extra
      FROM funding_lines_stored l
      UNION ALL
      SELECT y.funding_line_code, y.year,
             y.committed_cents - (SELECT coalesce(sum(x.committed_cents), 0) FROM budget_shards x
                                  WHERE x.funding_line_code = y.funding_line_code AND x.year = y.year)
      FROM funding_line_years_stored y) d
WHERE b.funding_line_code = d.code AND b.year = d.year AND b.shard = 0 AND d.extra <> 0;
UPDATE budget_shards SET allotted_cents = committed_cents;

ALTER TABLE funding_lines_stored DROP CONSTRAINT funding_lines_committed_within_budget;
ALTER TABLE funding_lines_stored DROP COLUMN committed_cents;
-- Paid within committed holds per grant (grant_years_paid_within_committed), hence for their sum.
ALTER TABLE funding_line_years_stored DROP CONSTRAINT funding_line_years_paid_within_committed;
ALTER TABLE funding_line_years_stored DROP CONSTRAINT funding_line_years_committed_within_budget;
ALTER TABLE funding_line_years_stored DROP COLUMN committed_cents;

CREATE VIEW funding_lines AS
SELECT l.code, l.title, l.description, l.guideline_reference, l.eligible_applicant_kinds, l.opens_on, l.closes_on,
       l.max_amount_cents, l.min_rate_bp, l.max_rate_bp, l.max_duration_months, l.yearly_cap_cents, l.budget_cents,
       (SELECT coalesce(sum(s.committed_cents), 0)::bigint FROM budget_shards s
        WHERE s.funding_line_code = l.code AND s.year = 0) AS committed_cents,
       l.version, l.created_at, l.updated_at, l.payout_window_months, l.retention_bp, l.third_signoff_above_cents,
       l.payments_require_final, l.interim_proof_months, l.final_proof_months, l.plan_line_tolerance_bp,
       l.hearing_days, l.interest_threshold_cents, l.required_attachments
FROM funding_lines_stored l;

CREATE VIEW funding_line_years AS
SELECT y.funding_line_code, y.year, y.budget_cents,
       (SELECT coalesce(sum(s.committed_cents), 0)::bigint FROM budget_shards s
        WHERE s.funding_line_code = y.funding_line_code AND s.year = y.year) AS committed_cents,
       y.paid_cents, y.version, y.created_at, y.updated_at
FROM funding_line_years_stored y;

-- Spreads what a level's budget leaves free over its eight shards, each keeping what it has committed, with `need`
-- more in shard `into`; `ok` is false (and nothing changes) when the budget does not cover `need`, `free` is what
-- it leaves free before `need`. Locks the budget row, then the shards in shard order: the order every writer of a
-- level keeps after the shard it commits in, so a rebalance waits instead of deadlocking.
CREATE FUNCTION escrow_rebalance(_code text, _year integer, _into smallint, _need bigint,
                                 OUT ok boolean, OUT free bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    budget bigint;
    committed bigint;
    spare bigint;
BEGIN
    IF _year = 0 THEN
        SELECT l.budget_cents INTO budget FROM funding_lines_stored l WHERE l.code = _code FOR NO KEY UPDATE;
    ELSE
        SELECT y.budget_cents INTO budget FROM funding_line_years_stored y
        WHERE y.funding_line_code = _code AND y.year = _year FOR NO KEY UPDATE;
    END IF;
    IF budget IS NULL THEN
        ok := false;
        free := 0;
        RETURN;
    END IF;
    PERFORM 1 FROM budget_shards s WHERE s.funding_line_code = _code AND s.year = _year ORDER BY s.shard FOR UPDATE;
    SELECT coalesce(sum(s.committed_cents), 0) INTO committed
    FROM budget_shards s WHERE s.funding_line_code = _code AND s.year = _year;
    free := budget - committed;
    IF free < _need THEN
        ok := false;
        RETURN;
    END IF;
    spare := free - _need;
    UPDATE budget_shards s
    SET allotted_cents = s.committed_cents + spare / 8
                         + CASE WHEN s.shard = _into THEN _need + spare % 8 ELSE 0 END
    WHERE s.funding_line_code = _code AND s.year = _year;
    ok := true;
END;
$$;

-- Moves a grant's commitment in its application's shard: the line's total by `_total`, then each `_years[i]` by
-- `_cents[i]` in ascending order (the lock order of every commitment). An increase beyond the shard's allotment
-- rebalances the level first. Returns no row when everything moved; else the level refused (0: the line's total)
-- and what its budget leaves free; the caller's transaction is then rolled back.
CREATE FUNCTION escrow_move(_code text, _app uuid, _total bigint, _years integer[], _cents bigint[])
RETURNS TABLE (refused_year integer, free_cents bigint)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    _shard smallint := escrow_shard(_app);
    level record;
    spread record;
BEGIN
    FOR level IN SELECT 0 AS year, _total AS cents
                 UNION ALL SELECT u.y, u.c FROM unnest(_years, _cents) AS u(y, c)
                 ORDER BY 1 LOOP
        CONTINUE WHEN level.cents = 0;
        -- In a block of its own (a subtransaction): an UPDATE that waited for the shard and then found its
        -- condition false keeps the row locked, and a rebalance holding that one shard while it waits for the
        -- others, in shard order, would deadlock with another rebalance. Leaving the block by the exception rolls
        -- the lock back.
        BEGIN
            UPDATE budget_shards s
            SET committed_cents = s.committed_cents + level.cents, updated_at = now()
            WHERE s.funding_line_code = _code AND s.year = level.year AND s.shard = _shard
              AND s.committed_cents + level.cents <= s.allotted_cents;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'P0V01';
            END IF;
            CONTINUE;
        EXCEPTION WHEN SQLSTATE 'P0V01' THEN
            NULL;
        END;
        -- A release always fits (it gives back what this shard holds); so does an increase after a rebalance.
        SELECT * INTO spread FROM escrow_rebalance(_code, level.year, _shard, level.cents);
        IF NOT spread.ok THEN
            refused_year := level.year;
            free_cents := spread.free;
            RETURN NEXT;
            RETURN;
        END IF;
        UPDATE budget_shards s
        SET committed_cents = s.committed_cents + level.cents, updated_at = now()
        WHERE s.funding_line_code = _code AND s.year = level.year AND s.shard = _shard;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no shard % of % % to move % cents in', _shard, _code, level.year, level.cents
                USING ERRCODE = 'XX000';
        END IF;
    END LOOP;
END;
$$;

-- A new line or year starts with its budget spread over eight empty shards; a changed budget is spread anew
-- (refused below what is committed, under the constraint name the service answers 409 `budget_below_committed` to).
CREATE FUNCTION escrow_budget_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- One function for both tables: their rows differ, so the key is read by name from the row as JSON.
    _code text := coalesce(to_jsonb(NEW) ->> 'funding_line_code', to_jsonb(NEW) ->> 'code');
    _level integer := coalesce((to_jsonb(NEW) ->> 'year')::integer, 0);
    spread record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO budget_shards (funding_line_code, year, shard, allotted_cents)
        SELECT _code, _level, s, NEW.budget_cents / 8 + CASE WHEN s = 0 THEN NEW.budget_cents % 8 ELSE 0 END
        FROM generate_series(0, 7) AS s;
        RETURN NULL;
    END IF;
    SELECT * INTO spread FROM escrow_rebalance(_code, _level, 0::smallint, 0);
    IF NOT spread.ok THEN
        RAISE EXCEPTION 'budget below what is committed'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = CASE WHEN _level = 0 THEN 'funding_lines_committed_within_budget'
                                    ELSE 'funding_line_years_committed_within_budget' END;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER escrow_line_created AFTER INSERT ON funding_lines_stored
    FOR EACH ROW EXECUTE FUNCTION escrow_budget_changed();
CREATE TRIGGER escrow_line_budget AFTER UPDATE OF budget_cents ON funding_lines_stored
    FOR EACH ROW WHEN (OLD.budget_cents IS DISTINCT FROM NEW.budget_cents) EXECUTE FUNCTION escrow_budget_changed();
CREATE TRIGGER escrow_year_created AFTER INSERT ON funding_line_years_stored
    FOR EACH ROW EXECUTE FUNCTION escrow_budget_changed();
CREATE TRIGGER escrow_year_budget AFTER UPDATE OF budget_cents ON funding_line_years_stored
    FOR EACH ROW WHEN (OLD.budget_cents IS DISTINCT FROM NEW.budget_cents) EXECUTE FUNCTION escrow_budget_changed();

-- The backstop of Σ allotted ≤ budget, checked at commit for every level whose allotments or budget changed
-- (never on the approvals' path, which moves only what is committed).
CREATE FUNCTION escrow_within_budget() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _code text := coalesce(to_jsonb(NEW) ->> 'funding_line_code', to_jsonb(NEW) ->> 'code');
    _level integer := coalesce((to_jsonb(NEW) ->> 'year')::integer, 0);
    budget bigint;
    allotted bigint;
BEGIN
    IF _level = 0 THEN
        SELECT l.budget_cents INTO budget FROM funding_lines_stored l WHERE l.code = _code;
    ELSE
        SELECT y.budget_cents INTO budget FROM funding_line_years_stored y
        WHERE y.funding_line_code = _code AND y.year = _level;
    END IF;
    SELECT sum(s.allotted_cents) INTO allotted FROM budget_shards s
    WHERE s.funding_line_code = _code AND s.year = _level;
    IF allotted > budget THEN
        RAISE EXCEPTION 'the shards of % % are allotted % cents of a budget of %', _code, _level, allotted, budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_shards_allotted_within_budget';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER budget_shards_allotted_within_budget AFTER INSERT OR UPDATE OF allotted_cents
    ON budget_shards DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION escrow_within_budget();
CREATE CONSTRAINT TRIGGER funding_lines_allotted_within_budget AFTER UPDATE OF budget_cents
    ON funding_lines_stored DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION escrow_within_budget();
CREATE CONSTRAINT TRIGGER funding_line_years_allotted_within_budget AFTER UPDATE OF budget_cents
    ON funding_line_years_stored DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION escrow_within_budget();

-- What the budgets leave free, spread over the shards now (the CHECKs above held before: committed ≤ budget).
SELECT escrow_rebalance(l.code, 0, 0::smallint, 0) FROM funding_lines_stored l ORDER BY l.code;
SELECT escrow_rebalance(y.funding_line_code, y.year, 0::smallint, 0) FROM funding_line_years_stored y
ORDER BY y.funding_line_code, y.year;
