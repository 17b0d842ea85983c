-- Basiszinssatz (§ 247 BGB): the reference rate of the interest on recovery claims (§ 49a Abs. 3 VwVfG / HVwVfG:
-- 5 percentage points above it). The Deutsche Bundesbank sets it for each 1 January and 1 July from the ECB's main
-- refinancing rate and publishes it in the Bundesanzeiger; the Bundesbank's notice is the authoritative source.
--
-- One row per published half-year, unchanged ones included: a rate holds only for its own half-year
-- (core::interest), so a half-year that has no row yet is reported as unknown instead of continuing the last rate.
-- A new half-year is a new row, added once the Bundesbank has published it.
--
-- Values were checked against secondary sources (no Bundesbank page was reachable from here):
--   2002-01 to 2014-01: every half-year in peti/hledger-interest (bgb288.irt, base rate + 5); 2002-01 to 2007-01
--     also in the official English translation of the BGB (footnote to § 247); 2008-01, 2008-07, 2009-01, 2009-07,
--     2011-07, 2013-01 and 2013-07 also in contemporary press notices of the Bundesbank's announcements.
--   2014-07 (-0.73), 2015-01 to 2016-01 (-0.83), 2016-07 (-0.88): press notices; -0.88 unchanged through 2022-07
--     (Bundesbank notices for 2019-07, 2020-07 and 2021-01; tax advisers' notes that -0.88 held from 2016-07-01 until
--     the change on 2023-01-01).
--   2023-01 (1.62), 2023-07 (3.12), 2024-01 (3.62): press and chamber of commerce (IHK) notices.
--   2024-07 (3.37), 2025-01 (2.27): two independent published tables; both are consistent with the ECB rate cuts of
--     June 2024 (-0.25) and of the second half of 2024 (-1.10).
--   2025-07 (1.27): a trade notice ("lowered by one point to 1.27 %") and a table; one other table says 1.77 %, which
--     contradicts the notice of 2026-01 that the rate "stays unchanged at 1.27 %", and was rejected.
--   2026-01 (1.27): a report of the Bundesbank's announcement.
--   2026-07 (1.52): the least attested value: two independent secondary sources agree (a published table, and a
--     calculator stating 10.52 % = base + 9 from 1 July 2026); no Bundesbank text was found. Check it before
--     relying on it.
-- Not included: 2027-01 and later (not known when this was written). Rates before 2002 (the Diskontsatz-Überleitungs-
-- Gesetz's base rate) are out of scope.
CREATE TABLE base_rates (
    valid_from date PRIMARY KEY
        CHECK (extract(day FROM valid_from) = 1 AND extract(month FROM valid_from) IN (1, 7)),
    rate_bp integer NOT NULL CHECK (rate_bp BETWEEN -1000 AND 2000),
    version bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO base_rates (valid_from, rate_bp) VALUES
    ('2002-01-01', 257),
    ('2002-07-01', 247),
    ('2003-01-01', 197),
    ('2003-07-01', 122),
    ('2004-01-01', 114),
    ('2004-07-01', 113),
    ('2005-01-01', 121),
    ('2005-07-01', 117),
    ('2006-01-01', 137),
    ('2006-07-01', 195),
    ('2007-01-01', 270),
    ('2007-07-01', 319),
    ('2008-01-01', 332),
    ('2008-07-01', 319),
    ('2009-01-01', 162),
    ('2009-07-01', 12),
    ('2010-01-01', 12),
    ('2010-07-01', 12),
    ('2011-01-01', 12),
    ('2011-07-01', 37),
    ('2012-01-01', 12),
    ('2012-07-01', 12),
    ('2013-01-01', -13),
    ('2013-07-01', -38),
    ('2014-01-01', -63),
    ('2014-07-01', -73),
    ('2015-01-01', -83),
    ('2015-07-01', -83),
    ('2016-01-01', -83),
    ('2016-07-01', -88),
    ('2017-01-01', -88),
    ('2017-07-01', -88),
    ('2018-01-01', -88),
    ('2018-07-01', -88),
    ('2019-01-01', -88),
    ('2019-07-01', -88),
    ('2020-01-01', -88),
    ('2020-07-01', -88),
    ('2021-01-01', -88),
    ('2021-07-01', -88),
    ('2022-01-01', -88),
    ('2022-07-01', -88),
    ('2023-01-01', 162),
    ('2023-07-01', 312),
    ('2024-01-01', 362),
    ('2024-07-01', 337),
    ('2025-01-01', 227),
    ('2025-07-01', 127),
    ('2026-01-01', 127),
    ('2026-07-01', 152);
