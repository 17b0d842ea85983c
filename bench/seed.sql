-- bench/seed.sql: synthetic but realistic data for the benchmark, set-based (no row-by-row work).
--
--   psql -v scale=100000 -v line_uuids='{"GK": "<uuid5>", ...}' -f bench/seed.sql "$DATABASE_URL"
--
-- line_uuids: the event resource id of every funding line, UUIDv5(URL namespace, "funding-line:<code>") as
-- funding_lines::event_id makes it (bench/run computes them; PostgreSQL has no SHA-1 built in).
--
-- Runs once on a freshly migrated database (it refuses a database that has applications already). Writes what the
-- API itself would have written, as if the programme had run since January 2026:
--   * ~374 organisations besides the 26 districts of the migration: 294 Gemeinden (eight-digit AGS inside the 21
--     Landkreise) and 80 Träger, each with its `organisation.created` event (public, like the API's);
--   * `scale` applications over all 26 districts, every funding line and every state, each reached through the real
--     lifecycle (create, update, submit, start-review, request-changes, approve, reject, withdraw) with one history
--     row and one event (audience: the applicant organisation) per step, the event carrying the application's
--     representation after that step, exactly as `GET /applications/{id}` renders it; versions, `updatedAt`,
--     `submittedAt`, `decidedAt`, `decisionReason` and `grantedCents` follow the transitions; applications of the
--     last 30 days are mostly still open (drafts, submitted, in review), older ones mostly decided;
--   * internal comments of the service unit on a quarter of the reviewed applications (`application.commented`,
--     staff only);
--   * the funding lines' `funding_line.created` events, one budget change by the ministry (PATCH) and a
--     `funding_line.changed` event after every approval with the running committed sum, so that in the end
--     `committed_cents` = sum of `granted_cents` of the approved applications of the line (and ≤ budget);
--   * every event already sequenced: positions 1..N gap-free in commit (= time) order, like the sequencer's.
-- Submitted applications satisfy every rule of their line at submission (plan sum, maximum amount, rate, duration,
-- yearly cap, eligible applicant kind, submission window), so they could have passed `submit`.
-- Random choices come from setseed(), so a scale always produces the same data (ids aside, which are UUIDv7 of
-- the creation time with random bits, like uuid_generate_v7()).
--
-- Helper tables live in schema `bench`; `bench.ids (n, id)` stays for pgbench (n = 1..scale → application id).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET synchronous_commit = off;
SET work_mem = '1GB';
SET maintenance_work_mem = '2GB';
SET max_parallel_maintenance_workers = 2;
SET TIME ZONE 'UTC';
-- Foreign keys are checked once at the end (the anti-joins below) instead of by a trigger per row.
SET session_replication_role = replica;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM applications) OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'bench') THEN
        RAISE EXCEPTION 'this database has applications or a bench schema already: seed a freshly migrated database';
    END IF;
    IF now() < timestamptz '2026-02-01 00:00:00+00' THEN
        RAISE EXCEPTION 'the synthetic history runs from 2026-01-02 until now; the clock says %', now();
    END IF;
END $$;

BEGIN;

CREATE SCHEMA bench;

SELECT setseed(0.4242) \gset

CREATE TABLE bench.params AS
SELECT :scale::bigint AS scale,
       timestamptz '2026-01-02 07:00:00+00' AS t0,
       date_trunc('second', now()) - interval '1 hour' AS t_end;

-- UUIDv7 of a given instant (the migration's uuid_generate_v7() with the time as a parameter).
-- (STABLE, like the expressions inside, so that the planner inlines these small functions.)
CREATE FUNCTION bench.uuid7(ts timestamptz, r uuid) RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(
           overlay(uuid_send(r) PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
                   FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

-- An instant as chrono (serde) writes DateTime<Utc>: fraction digits 0, 3 or 6, then Z.
CREATE FUNCTION bench.ts_json(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
         || CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0 THEN ''
                 WHEN date_part('microseconds', t)::bigint % 1000 = 0 THEN to_char(t AT TIME ZONE 'UTC', '.MS')
                 ELSE to_char(t AT TIME ZONE 'UTC', '.US') END
         || 'Z'
$$;

-- A text chosen from an array by a number in [0, 1).
CREATE FUNCTION bench.pick(a text[], r double precision) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT a[1 + floor(r * cardinality(a))::int]
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Organisations: the migration's districts were "installed" a month before the programme opened.
UPDATE organisations SET created_at = (SELECT t0 FROM bench.params) - interval '30 days',
                         updated_at = (SELECT t0 FROM bench.params) - interval '30 days';
UPDATE funding_lines SET created_at = (SELECT t0 FROM bench.params) - interval '30 days',
                         updated_at = (SELECT t0 FROM bench.params) - interval '30 days';
UPDATE committees SET created_at = (SELECT t0 FROM bench.params) - interval '30 days',
                      updated_at = (SELECT t0 FROM bench.params) - interval '30 days';

CREATE TABLE bench.places (i int PRIMARY KEY, name text NOT NULL);
INSERT INTO bench.places
SELECT ordinality - 1, name FROM unnest(ARRAY[
  'Alsfeld', 'Homberg (Ohm)', 'Schotten', 'Lich', 'Laubach', 'Grünberg', 'Hungen', 'Büdingen', 'Nidda', 'Gedern',
  'Ortenberg', 'Schlitz', 'Herbstein', 'Ulrichstein', 'Romrod', 'Witzenhausen', 'Hessisch Lichtenau', 'Sontra',
  'Wanfried', 'Bad Sooden-Allendorf', 'Bebra', 'Heringen (Werra)', 'Philippsthal', 'Borken', 'Fritzlar',
  'Melsungen', 'Schwalmstadt', 'Neukirchen', 'Korbach', 'Frankenberg (Eder)', 'Bad Arolsen', 'Volkmarsen',
  'Willingen', 'Hofgeismar', 'Wolfhagen', 'Baunatal', 'Vellmar', 'Hünfeld', 'Gersfeld', 'Tann (Rhön)',
  'Eiterfeld', 'Biedenkopf', 'Gladenbach', 'Kirchhain', 'Stadtallendorf', 'Amöneburg', 'Wetter (Hessen)',
  'Herborn', 'Dillenburg', 'Haiger', 'Braunfels', 'Weilburg', 'Hadamar', 'Runkel', 'Idstein', 'Taunusstein',
  'Bad Schwalbach', 'Lorch', 'Michelstadt', 'Erbach', 'Bad König', 'Oberzent', 'Lindenfels', 'Fürth',
  'Lampertheim', 'Heppenheim', 'Dieburg', 'Babenhausen', 'Gelnhausen', 'Schlüchtern', 'Steinau an der Straße',
  'Bad Orb', 'Wächtersbach', 'Usingen', 'Weilrod', 'Grävenwiesbach', 'Hofheim am Taunus', 'Eppstein',
  'Seligenstadt', 'Rodgau', 'Dreieich', 'Friedberg', 'Butzbach', 'Bad Vilbel', 'Rotenburg an der Fulda',
  'Spangenberg', 'Felsberg', 'Gudensberg', 'Bad Wildungen', 'Diemelstadt', 'Twistetal', 'Edertal',
  'Bad Hersfeld', 'Niederaula', 'Neuhof', 'Eichenzell', 'Petersberg', 'Poppenhausen', 'Hilders', 'Großenlüder'
]) WITH ORDINALITY AS t(name, ordinality);

-- 14 Gemeinden in each of the 21 Landkreise.
INSERT INTO organisations (id, ags, name, kind, district_ags, version, created_at, updated_at)
SELECT bench.uuid7(c, gen_random_uuid()), d.ags || lpad((g * 3 + 1)::text, 3, '0'),
       CASE WHEN g % 3 = 0 THEN 'Stadt ' ELSE 'Gemeinde ' END || p.name, 'gemeinde', d.ags, 1, c, c
FROM (SELECT ags, row_number() OVER (ORDER BY ags) - 1 AS di FROM districts WHERE kind = 'landkreis') d
CROSS JOIN generate_series(0, 13) g
JOIN bench.places p ON p.i = (d.di * 14 + g) % (SELECT count(*) FROM bench.places)
CROSS JOIN LATERAL (SELECT (SELECT t0 FROM bench.params) - interval '20 days'
                           + (d.di * 14 + g) * interval '1 hour' + random() * interval '50 minutes' AS c) ts;

-- 80 Träger, spread over all 26 districts.
INSERT INTO organisations (id, ags, name, kind, district_ags, version, created_at, updated_at)
SELECT bench.uuid7(c, gen_random_uuid()), NULL,
       format((ARRAY['Gesundheitszentrum %s gGmbH', 'MVZ %s GmbH', 'Ärztenetz %s e. V.', 'Pflegedienst %s gGmbH',
                     'Klinikum %s gGmbH'])[1 + t % 5], d.name),
       'traeger', d.ags, 1, c, c
FROM generate_series(0, 79) t
JOIN (SELECT ags, name, row_number() OVER (ORDER BY ags) - 1 AS di FROM districts) d ON d.di = t % 26
CROSS JOIN LATERAL (SELECT (SELECT t0 FROM bench.params) - interval '6 days' + t * interval '1 hour'
                           + random() * interval '50 minutes' AS c) ts;

-- The applicants, with a weight: Landkreise and kreisfreie Städte apply most (they are also the only ones eligible
-- for GK), Gemeinden and Träger less.
CREATE TABLE bench.orgs AS
SELECT (row_number() OVER (ORDER BY o.kind, o.ags, o.id) - 1)::int AS oi, o.id, o.ags, o.name, o.kind,
       o.district_ags, o.created_at,
       CASE o.kind WHEN 'landkreis' THEN d.name WHEN 'kreisfreie_stadt' THEN d.name
                   WHEN 'gemeinde' THEN regexp_replace(o.name, '^(Stadt|Gemeinde) ', '') ELSE d.name END AS place,
       o.kind IN ('landkreis', 'kreisfreie_stadt') AS is_district,
       CASE o.kind WHEN 'landkreis' THEN 12 WHEN 'kreisfreie_stadt' THEN 16 WHEN 'gemeinde' THEN 2 ELSE 3 END AS w
FROM organisations o JOIN districts d ON d.ags = o.district_ags;
ALTER TABLE bench.orgs ADD PRIMARY KEY (oi);

CREATE TABLE bench.org_slots AS
SELECT (row_number() OVER (ORDER BY oi, s) - 1)::int AS slot, oi FROM bench.orgs, generate_series(1, w) s;
ALTER TABLE bench.org_slots ADD PRIMARY KEY (slot);

-- Funding line shares (20 slots each): districts mostly apply for GK; the others cannot.
CREATE TABLE bench.line_slots (is_district boolean, slot int, line text, PRIMARY KEY (is_district, slot));
INSERT INTO bench.line_slots
SELECT true, (ordinality - 1)::int, line FROM unnest(ARRAY['GK','GK','GK','GK','GK','GK','GK','GK','VA','VA','VA',
       'GZ','GZ','GZ','MV','MV','MV','PX','PX','PX']) WITH ORDINALITY AS t(line, ordinality)
UNION ALL
SELECT false, (ordinality - 1)::int, line FROM unnest(ARRAY['VA','VA','VA','VA','VA','VA','VA','VA','GZ','GZ','GZ',
       'GZ','MV','MV','MV','PX','PX','PX','PX','PX']) WITH ORDINALITY AS t(line, ordinality);

-- Lifecycle paths: the steps through which an application reached its final state, and how often (of 100).
-- Applications of the last 30 days are mostly still open (`young`); older ones mostly decided.
CREATE TABLE bench.paths (path int PRIMARY KEY, share int NOT NULL, young_share int NOT NULL,
                          actions text[] NOT NULL);
INSERT INTO bench.paths VALUES
  (1,  5, 25, '{create}'),
  (2,  2,  5, '{create,update}'),
  (3,  8, 35, '{create,submit}'),
  (4,  9, 20, '{create,submit,start-review}'),
  (5,  5,  5, '{create,submit,start-review,request-changes}'),
  (6, 31,  0, '{create,submit,start-review,approve}'),
  (7,  6,  0, '{create,submit,start-review,request-changes,update,submit,start-review,approve}'),
  (8, 16,  0, '{create,submit,start-review,reject}'),
  (9,  6,  5, '{create,withdraw}'),
  (10, 8,  5, '{create,submit,withdraw}'),
  (11, 4,  0, '{create,submit,start-review,withdraw}');

CREATE TABLE bench.path_slots AS
SELECT false AS young, (row_number() OVER (ORDER BY path, s) - 1)::int AS slot, path
FROM bench.paths, generate_series(1, share) s
UNION ALL
SELECT true, (row_number() OVER (ORDER BY path, s) - 1)::int, path
FROM bench.paths, generate_series(1, young_share) s;
ALTER TABLE bench.path_slots ADD PRIMARY KEY (young, slot);

-- Every step of every path with the state it leaves behind.
CREATE TABLE bench.path_steps AS
WITH s AS (
  SELECT p.path, (a.k - 1)::int AS k, a.action, cardinality(p.actions) AS nsteps
  FROM bench.paths p, unnest(p.actions) WITH ORDINALITY AS a(action, k)
), st AS (
  SELECT s.*,
         CASE action WHEN 'create' THEN 'draft' WHEN 'update' THEN NULL WHEN 'submit' THEN 'submitted'
                     WHEN 'start-review' THEN 'in_review' WHEN 'request-changes' THEN 'changes_requested'
                     WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected' WHEN 'withdraw' THEN 'withdrawn'
         END AS to_raw,
         max(k) FILTER (WHERE action = 'submit') OVER w AS submit_k,
         max(k) FILTER (WHERE action IN ('approve', 'reject')) OVER w AS decide_k,
         max(k) FILTER (WHERE action IN ('submit', 'request-changes', 'approve', 'reject', 'withdraw')) OVER w
           AS reason_k,
         bool_or(action = 'update') OVER w AS updated,
         bool_or(action = 'approve') OVER w AS approved,
         min(k) FILTER (WHERE action = 'start-review') OVER (PARTITION BY path) AS first_review_k
  FROM s WINDOW w AS (PARTITION BY path ORDER BY k)
)
SELECT st.path, st.k, st.action, st.nsteps, st.submit_k, st.decide_k, st.updated, st.approved, st.first_review_k,
       -- An update leaves the status as it was.
       coalesce(st.to_raw, (SELECT x.to_raw FROM st x WHERE x.path = st.path AND x.k = st.k - 1)) AS to_status,
       (SELECT coalesce(x.to_raw, (SELECT y.to_raw FROM st y WHERE y.path = x.path AND y.k = x.k - 1))
          FROM st x WHERE x.path = st.path AND x.k = st.k - 1) AS from_status,
       -- The step whose reason is the application's decisionReason now (submit clears it).
       (SELECT x.action FROM st x WHERE x.path = st.path AND x.k = st.reason_k AND x.action <> 'submit')
         AS reason_action
FROM st;
ALTER TABLE bench.path_steps ADD PRIMARY KEY (path, k);

CREATE TABLE bench.reasons (action text, variant int, reason text, PRIMARY KEY (action, variant));
INSERT INTO bench.reasons VALUES
  ('request-changes', 0, 'Bitte den Finanzierungsplan nach Jahren aufschlüsseln.'),
  ('request-changes', 1, 'Bitte die Kooperation mit dem Gesundheitsamt und der regionalen Gesundheitskonferenz beschreiben.'),
  ('request-changes', 2, 'Bitte den Zeitplan und die Meilensteine konkretisieren.'),
  ('approve', 0, 'Bewilligt gemäß der Richtlinie.'),
  ('approve', 1, 'Bewilligt; der Verwendungsnachweis ist bis drei Monate nach Ende des Durchführungszeitraums vorzulegen.'),
  ('approve', 2, 'Bewilligt mit gekürzter Zuwendung: Sachausgaben nur anteilig förderfähig.'),
  ('reject', 0, 'Die Fördervoraussetzungen nach Teil II der Richtlinie liegen nicht vor.'),
  ('reject', 1, 'Der Erwerb eines Vertragsarztsitzes ist nicht förderfähig.'),
  ('reject', 2, 'Die Maßnahme wird bereits aus anderen öffentlichen Mitteln gefördert.'),
  ('withdraw', 0, 'Die Stelle wird aus Eigenmitteln finanziert.'),
  ('withdraw', 1, 'Das Vorhaben wird auf das nächste Haushaltsjahr verschoben.'),
  ('withdraw', 2, 'Ein anderer Träger übernimmt das Vorhaben.');

-- The funding lines' rules as the migration seeded them.
CREATE TABLE bench.lines AS
SELECT (row_number() OVER (ORDER BY code) - 1)::int AS li, * FROM funding_lines;

-- ---------------------------------------------------------------------------------------------------------------
-- Applications: one row of random draws each, then the application as it stands after its last step.
CREATE UNLOGGED TABLE bench.draws AS
SELECT n, random() AS r_org, random() AS r_line, random() AS r_path, random() AS r_created, random() AS r_u,
       random() AS r_amount, random() AS r_rate, random() AS r_months, random() AS r_start, random() AS r_third,
       random() AS r_grant, random() AS r_title, random() AS r_suffix, random() AS r_s1, random() AS r_s2,
       random() AS r_s3, random() AS r_contact, random() AS r_comment
FROM generate_series(1, (SELECT scale FROM bench.params)) n;

CREATE UNLOGGED TABLE bench.apps AS
WITH base AS (
  SELECT d.*, o.oi, o.id AS org_id, o.ags AS org_ags, o.name AS org_name, o.kind AS org_kind,
         o.district_ags, o.place, ls.line, l.max_amount_cents, l.min_rate_bp, l.max_rate_bp,
         l.max_duration_months, l.yearly_cap_cents,
         p.t0 + (p.t_end - p.t0 - interval '2 hours') * ((d.n - 1 + d.r_created) / p.scale) AS created_at,
         p.t_end,
         0.05 + 0.9 * d.r_u AS u
  FROM bench.draws d
  CROSS JOIN bench.params p
  JOIN bench.org_slots os ON os.slot = floor(d.r_org * (SELECT count(*) FROM bench.org_slots))::int
  JOIN bench.orgs o ON o.oi = os.oi
  JOIN bench.line_slots ls ON ls.is_district = o.is_district AND ls.slot = floor(d.r_line * 20)::int
  JOIN bench.lines l ON l.code = ls.line
), pathed AS (
  SELECT b.*, ps.path
  FROM base b
  JOIN bench.path_slots ps ON ps.young = (b.created_at > b.t_end - interval '30 days')
                          AND ps.slot = floor(b.r_path * 100)::int
), sized AS (
  SELECT b.*,
         CASE b.line WHEN 'GK' THEN (ARRAY[36, 48, 60])[1 + floor(b.r_months * 3)::int]
                     WHEN 'VA' THEN 6 + floor(b.r_months * 19)::int
                     WHEN 'PX' THEN 12 + floor(b.r_months * 13)::int
                     ELSE 12 + floor(b.r_months * 25)::int END AS months,
         -- Share of the costs requested, in basis points, within the line's range.
         CASE b.line WHEN 'GK' THEN 8000 + floor(b.r_rate * 2001)::int
                     WHEN 'MV' THEN 4500 + floor(b.r_rate * 4501)::int
                     WHEN 'PX' THEN 3000 + floor(b.r_rate * 2001)::int
                     ELSE 5000 + floor(b.r_rate * 3001)::int END AS rate_bp
  FROM pathed b
), amounts AS (
  SELECT s.*,
         -- Whole hundreds of euros, within the maximum amount and (GK) the yearly cap times the project years.
         (floor(CASE s.line
                  WHEN 'GK' THEN least(s.max_amount_cents, s.yearly_cap_cents * ceil(s.months / 12.0)::bigint)
                                 * (0.6 + 0.4 * s.r_amount)
                  WHEN 'VA' THEN s.max_amount_cents * (0.2 + 0.8 * s.r_amount)
                  WHEN 'PX' THEN s.max_amount_cents * (0.3 + 0.7 * s.r_amount)
                  ELSE s.max_amount_cents * (0.1 + 0.5 * s.r_amount) END / 10000) * 10000)::bigint AS requested
  FROM sized s
), money AS (
  SELECT a.*, (ceil(a.requested * 10000.0 / a.rate_bp / 100) * 100)::bigint AS total
  FROM amounts a
), money2 AS (
  SELECT m.*,
         CASE WHEN m.r_third < 0.6 THEN 0
              ELSE (floor((m.total - m.requested) * (m.r_third - 0.5) / 100) * 100)::bigint END AS third
  FROM money m
), dated AS (
  SELECT m.*,
         date_trunc('month', m.created_at + interval '45 days' + m.r_start * interval '200 days')::date AS start_date
  FROM money2 m
)
SELECT t.n, bench.uuid7(t.created_at, gen_random_uuid()) AS id, t.oi, t.org_id, t.org_ags, t.org_name, t.org_kind,
       t.district_ags, t.line, t.path, t.created_at, t.t_end, t.u,
       bench.pick(CASE t.line
         WHEN 'GK' THEN ARRAY['Gesundheitskoordination ', 'Personalstelle Gesundheitskoordination ',
                              'Kommunale Gesundheitsstrategie ']
         WHEN 'VA' THEN ARRAY['Versorgungsanalyse hausärztliche Versorgung ', 'Versorgungskonzept Pflege und Medizin ',
                              'Kleinräumige Versorgungsanalyse ', 'Analyse der kinderärztlichen Versorgung ']
         WHEN 'GZ' THEN ARRAY['Sektorenübergreifendes Gesundheitszentrum ', 'Lokales Gesundheitszentrum ',
                              'Medizinisches Versorgungszentrum ', 'Primärversorgungszentrum ']
         WHEN 'MV' THEN ARRAY['Telemedizinische Fallkonferenzen ', 'Gemeindenotfallsanitäter ', 'Mobile Arztpraxis ',
                              'Gesundheitskiosk ', 'Community Health Nursing ']
         ELSE ARRAY['Übernahme einer Hausarztpraxis in ', 'Zweigpraxis in ', 'Gründung einer Kinderarztpraxis in ',
                    'Übernahme einer Facharztpraxis in '] END, t.r_title)
       || t.place
       || bench.pick(ARRAY['', '', '', ' 2027', ' 2028', ' – zweite Förderphase', ' (Neuantrag)'], t.r_suffix)
         AS title,
       bench.pick(CASE t.line
         WHEN 'GK' THEN ARRAY['Personalstelle für Gesundheitskoordination zum Aufbau einer kommunalen Gesundheitsstrategie.',
                              'Die Gesundheitskoordination führt die Geschäftsstelle der Gesundheits- und Präventionskonferenz.']
         WHEN 'VA' THEN ARRAY['Analyse der hausärztlichen Versorgung bis 2035 mit Altersstruktur der Praxen.',
                              'Kleinräumige Analyse von Bedarf und Angebot in Pflege und ärztlicher Versorgung.']
         WHEN 'GZ' THEN ARRAY['Planung eines Gesundheitszentrums mit hausärztlicher Praxis, Physiotherapie und Pflegeberatung.',
                              'Aufbau eines sektorenübergreifenden Zentrums am Standort des ehemaligen Krankenhauses.']
         WHEN 'MV' THEN ARRAY['Modellvorhaben zur Erprobung einer neuen, sektorenübergreifenden Versorgungsform.',
                              'Erprobung der Zusammenarbeit von Hausarztpraxen, Klinik und Pflegediensten.']
         ELSE ARRAY['Übernahme und Modernisierung einer Einzelpraxis, deren Inhaber in den Ruhestand geht.',
                    'Gründung einer Zweigpraxis mit zwei Sprechtagen pro Woche.'] END, t.r_s1)
       || ' ' || bench.pick(ARRAY[
            'Die Telemedizin verbindet die Hausarztpraxen mit der Klinik.',
            'Im ländlichen Raum fehlen Nachfolger für viele Hausarztpraxen.',
            'Die Prävention richtet sich an ältere Menschen und pflegende Angehörige.',
            'Die Notfallversorgung soll durch Gemeindenotfallsanitäter entlastet werden.',
            'Kinder- und Jugendmedizin ist im Kreis nur an zwei Standorten erreichbar.',
            'Physiotherapie, Ergotherapie und Logopädie werden unter einem Dach angeboten.',
            'Die Apotheken vor Ort werden in die Medikationsberatung eingebunden.',
            'Der demografische Wandel erhöht den Bedarf an Pflege und Betreuung.',
            'Die Nachwuchsgewinnung beginnt mit Famulaturen und Weiterbildungsverbünden.',
            'Ein Bürgerbus verbindet die Ortsteile mit dem Gesundheitszentrum.',
            'Die Pflegeberatung wird mit dem Pflegestützpunkt abgestimmt.',
            'Die Daten der Kassenärztlichen Vereinigung werden kleinräumig ausgewertet.'], t.r_s2)
       || ' ' || bench.pick(ARRAY[
            'Meilensteine: Konzept im ersten Halbjahr, Umsetzung ab dem zweiten Projektjahr.',
            'Die regionale Gesundheitskonferenz begleitet das Vorhaben.',
            'Die Ergebnisse werden anderen Kommunen in Hessen zur Verfügung gestellt.',
            'Eine externe Evaluation ist vorgesehen.',
            'Die Kommune stellt Räume und die Verwaltung des Projekts.',
            'Die Kooperation mit dem Gesundheitsamt ist vereinbart.',
            'Das Vorhaben knüpft an die Versorgungsanalyse des Landkreises an.',
            'Die Finanzierung nach Ende der Förderung ist durch einen Kreistagsbeschluss gesichert.'], t.r_s3)
         AS description_v1,
       t.start_date,
       (t.start_date + make_interval(months => t.months))::date - 1 AS end_date,
       t.total, t.total - t.requested - t.third AS own, t.third, t.requested,
       CASE WHEN t.r_grant < 0.7 THEN t.requested ELSE (floor(t.requested * 0.9 / 100) * 100)::bigint END AS granted,
       bench.pick(ARRAY['Dr. Maria Becker', 'Jana Hoffmann', 'Kai Wagner', 'Tobias Becker', 'Sabine Schäfer',
                        'Thomas Richter', 'Anna Schmidt', 'Michael Wolf', 'Petra Neumann', 'Stefan Krüger'],
                  t.r_contact) AS contact_name,
       'foerderung.' || t.oi || '@example.org' AS contact_email,
       '+49 6' || lpad((t.oi * 7919 % 100000)::text, 5, '0') || ' ' || (100 + t.oi % 900) || '-0' AS contact_phone,
       'antrag-' || coalesce(t.org_ags, left(t.org_id::text, 8)) AS applicant_sub,
       t.r_comment, t.r_grant
FROM dated t;
ALTER TABLE bench.apps ADD PRIMARY KEY (n);

-- n → id, for pgbench (random n) and the benchmark's samples.
CREATE TABLE bench.ids AS SELECT n::int AS n, id, oi FROM bench.apps;
ALTER TABLE bench.ids ADD PRIMARY KEY (n);

-- Every step of every application, at its instant: the creation, then the later steps spread over the time until
-- now (the fraction u of it), strictly increasing.
CREATE UNLOGGED TABLE bench.steps AS
SELECT a.n, ps.k, ps.nsteps, ps.action, ps.from_status, ps.to_status, ps.updated, ps.approved, ps.reason_action,
       ps.first_review_k,
       CASE WHEN ps.k = 0 THEN a.created_at
            ELSE a.created_at + (a.t_end - a.created_at) * a.u * ((ps.k + random() * 0.5) / ps.nsteps) END AS ts,
       (a.t_end - a.created_at) * a.u / ps.nsteps AS step_span
FROM bench.apps a JOIN bench.path_steps ps ON ps.path = a.path;

ANALYZE bench.apps;
ANALYZE bench.steps;

-- The state after each step (instants of the last submission and of the decision, the current reason).
CREATE UNLOGGED TABLE bench.states AS
SELECT s.*,
       max(s.ts) FILTER (WHERE s.action = 'submit') OVER w AS submitted_at,
       max(s.ts) FILTER (WHERE s.action IN ('approve', 'reject')) OVER w AS decided_at
FROM bench.steps s
WINDOW w AS (PARTITION BY s.n ORDER BY s.k);

-- Comments of the service unit (internal) on a quarter of the reviewed applications, just after the review began.
CREATE UNLOGGED TABLE bench.comments AS
SELECT s.n, s.k, c.ts, bench.uuid7(c.ts, gen_random_uuid()) AS id, 'serviceeinheit-' || (1 + s.n % 4) AS author_sub,
       bench.pick(ARRAY['Die Serviceeinheit hat die Antragstellenden zur Kooperation mit der regionalen Gesundheitskonferenz beraten.',
                        'Rücksprache mit dem Gesundheitsamt: Bedarf bestätigt.',
                        'Vergleichbares Vorhaben im Nachbarkreis; Erfahrungen wurden weitergegeben.'], a.r_comment * 4)
         AS body
FROM bench.states s
JOIN bench.apps a ON a.n = s.n
CROSS JOIN LATERAL (SELECT s.ts + s.step_span * 0.05 AS ts) c
WHERE s.k = s.first_review_k AND a.r_comment < 0.25;

-- Approvals in time order with the line's committed sum after each.
CREATE UNLOGGED TABLE bench.approvals AS
SELECT s.n, s.k, s.ts, a.line, a.granted,
       (sum(a.granted) OVER (PARTITION BY a.line ORDER BY s.ts, s.n ROWS UNBOUNDED PRECEDING))::bigint AS committed_after
FROM bench.states s JOIN bench.apps a ON a.n = s.n
WHERE s.action = 'approve';

-- The ministry raised every budget once, before the programme opened, to what the approvals need (with headroom;
-- never above the API's ceiling of 10 billion euros unless the approvals need it).
CREATE TABLE bench.budgets AS
SELECT l.code,
       coalesce(c.committed, 0) AS committed,
       greatest(l.budget_cents, least(1000000000000, (ceil(coalesce(c.committed, 0) * 1.25 / 1e10) * 1e10)::bigint),
                coalesce(c.committed, 0)) AS budget
FROM bench.lines l
LEFT JOIN (SELECT line, sum(granted)::bigint AS committed FROM bench.approvals GROUP BY line) c ON c.line = l.code;

-- ---------------------------------------------------------------------------------------------------------------
-- Bulk load: secondary indexes are dropped and rebuilt afterwards (same definitions), which is much faster.
CREATE TABLE bench.saved_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'public'::regnamespace
  AND c.relname IN ('applications', 'history', 'events', 'application_comments')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT name FROM bench.saved_indexes LOOP EXECUTE 'DROP INDEX ' || r.name; END LOOP;
END $$;

INSERT INTO applications (id, organisation_id, district_ags, funding_line_code, status, title, description,
                          start_date, end_date, total_costs_cents, own_funds_cents, third_party_funds_cents,
                          requested_cents, plan_years, contact_name, contact_email, contact_phone, referral_id,
                          granted_cents, decision_reason, version, created_at, updated_at, submitted_at, decided_at)
SELECT a.id, a.org_id, a.district_ags, a.line, s.to_status, a.title,
       a.description_v1 || CASE WHEN s.updated
         THEN ' Ergänzt: Meilensteinplan mit halbjährlichen Zwischenberichten an die Serviceeinheit.' ELSE '' END,
       a.start_date, a.end_date, a.total, a.own, a.third, a.requested, '[]'::jsonb, a.contact_name, a.contact_email,
       a.contact_phone, NULL, CASE WHEN s.approved THEN a.granted END, r.reason, s.k + 1, a.created_at, s.ts,
       s.submitted_at, s.decided_at
FROM bench.apps a
JOIN bench.states s ON s.n = a.n AND s.k = s.nsteps - 1
LEFT JOIN bench.reasons r ON r.action = s.reason_action AND r.variant = a.n % 3
ORDER BY a.n;

INSERT INTO application_comments (id, application_id, author_sub, author_role, author_org_id, body, internal,
                                  created_at)
SELECT c.id, a.id, c.author_sub, 'service_unit', NULL, c.body, true, c.ts
FROM bench.comments c JOIN bench.apps a ON a.n = c.n
ORDER BY c.ts;

-- History: one row per step, numbered in time order.
INSERT INTO history (id, resource_kind, resource_id, action, actor_sub, actor_role, actor_org_id, from_status,
                     to_status, reason, changed_fields, occurred_at) OVERRIDING SYSTEM VALUE
SELECT (SELECT coalesce(max(id), 0) FROM history) + h.seq, 'application', a.id, s.action,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN a.applicant_sub
            ELSE 'pruefer-' || (1 + (s.n + s.k) % 12) END,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN 'municipality' ELSE 'ministry' END,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN a.org_id END,
       s.from_status, s.to_status,
       CASE WHEN s.action IN ('request-changes', 'approve', 'reject', 'withdraw') THEN r.reason END,
       CASE WHEN s.action = 'update' THEN ARRAY['/description'] ELSE '{}'::text[] END,
       s.ts
FROM (SELECT n, k, row_number() OVER (ORDER BY ts, n, k) AS seq FROM bench.states) h
JOIN bench.states s ON s.n = h.n AND s.k = h.k
JOIN bench.apps a ON a.n = s.n
LEFT JOIN bench.reasons r ON r.action = s.action AND r.variant = a.n % 3;

-- ---------------------------------------------------------------------------------------------------------------
-- The feed: every event with its position, in time order (= commit order).
CREATE UNLOGGED TABLE bench.evseq AS
SELECT src, n, k, ts,
       (SELECT coalesce(max(id), 0) FROM events) + row_number() OVER (ORDER BY ts, src, n, k) AS id,
       (SELECT coalesce(max(position), 0) FROM events) + row_number() OVER (ORDER BY ts, src, n, k) AS position
FROM (
  SELECT 1 AS src, oi::bigint AS n, 0 AS k, created_at AS ts FROM bench.orgs
  UNION ALL SELECT 2, li, 0, (SELECT t0 FROM bench.params) - interval '30 days' FROM bench.lines
  UNION ALL SELECT 3, li, 0, (SELECT t0 FROM bench.params) - interval '2 days' FROM bench.lines
  UNION ALL SELECT 4, n, k, ts FROM bench.states
  UNION ALL SELECT 5, n, k, ts FROM bench.approvals
  UNION ALL SELECT 6, n, k, ts FROM bench.comments
) e;
ALTER TABLE bench.evseq ADD PRIMARY KEY (src, n, k);
ANALYZE bench.states;
ANALYZE bench.evseq;
ANALYZE bench.approvals;
ANALYZE bench.comments;

CREATE FUNCTION bench.line_json(l bench.lines, budget bigint, committed bigint, version bigint, updated timestamptz,
                                at timestamptz) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'code', l.code, 'title', l.title, 'description', l.description, 'guidelineReference', l.guideline_reference,
    'eligibleApplicantKinds', to_jsonb(l.eligible_applicant_kinds), 'opensOn', l.opens_on, 'closesOn', l.closes_on,
    'open', (l.opens_on IS NULL OR (at AT TIME ZONE 'Europe/Berlin')::date >= l.opens_on)
            AND (l.closes_on IS NULL OR (at AT TIME ZONE 'Europe/Berlin')::date <= l.closes_on),
    'maxAmountCents', l.max_amount_cents, 'minRateBasisPoints', l.min_rate_bp, 'maxRateBasisPoints', l.max_rate_bp,
    'maxDurationMonths', l.max_duration_months, 'yearlyCapCents', l.yearly_cap_cents, 'budgetCents', budget,
    'committedCents', committed, 'remainingCents', budget - committed, 'version', version,
    'createdAt', bench.ts_json(l.created_at), 'updatedAt', bench.ts_json(updated))
$$;

-- Organisations (public), as the service unit (or, for the districts of the migration, the backfill) wrote them.
INSERT INTO events (id, position, type, resource_kind, resource_id, occurred_at, actor_sub, actor_role,
                    actor_org_id, public, org_ids, districts, staff_only, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.position, 'organisation.created', 'organisation', o.id, e.ts,
       CASE WHEN o.kind IN ('landkreis', 'kreisfreie_stadt') THEN 'system' ELSE 'serviceeinheit-1' END,
       'service_unit', NULL, true, '{}', '{}', false,
       jsonb_build_object('id', o.id, 'ags', o.ags, 'name', o.name, 'kind', o.kind, 'district', o.district_ags,
                          'version', 1, 'createdAt', bench.ts_json(o.created_at),
                          'updatedAt', bench.ts_json(o.created_at))
FROM bench.orgs o JOIN bench.evseq e ON e.src = 1 AND e.n = o.oi;

-- Funding lines: created (backfill), the budget change, and a change after every approval.
INSERT INTO events (id, position, type, resource_kind, resource_id, occurred_at, actor_sub, actor_role,
                    actor_org_id, public, org_ids, districts, staff_only, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.position,
       CASE e.src WHEN 2 THEN 'funding_line.created' ELSE 'funding_line.changed' END, 'funding_line',
       (:'line_uuids'::jsonb ->> l.code)::uuid, e.ts,
       CASE e.src WHEN 2 THEN 'system' ELSE 'haushalt-1' END,
       CASE e.src WHEN 2 THEN 'service_unit' ELSE 'ministry' END, NULL, true, '{}', '{}', false,
       CASE e.src WHEN 2 THEN bench.line_json(l, l.budget_cents, 0, 1, l.updated_at, e.ts)
                  ELSE bench.line_json(l, b.budget, 0, 2, e.ts, e.ts) END
FROM bench.lines l JOIN bench.budgets b ON b.code = l.code JOIN bench.evseq e ON e.src IN (2, 3) AND e.n = l.li;

INSERT INTO events (id, position, type, resource_kind, resource_id, occurred_at, actor_sub, actor_role,
                    actor_org_id, public, org_ids, districts, staff_only, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.position, 'funding_line.changed', 'funding_line', (:'line_uuids'::jsonb ->> l.code)::uuid, e.ts,
       'pruefer-' || (1 + (ap.n + ap.k) % 12), 'ministry', NULL, true, '{}', '{}', false,
       bench.line_json(l, b.budget, ap.committed_after, 2, (SELECT t0 FROM bench.params) - interval '2 days', e.ts)
FROM bench.approvals ap
JOIN bench.evseq e ON e.src = 5 AND e.n = ap.n AND e.k = ap.k
JOIN bench.lines l ON l.code = ap.line
JOIN bench.budgets b ON b.code = ap.line;

-- Applications: one event per step with the representation after it, for the applicant organisation.
INSERT INTO events (id, position, type, resource_kind, resource_id, occurred_at, actor_sub, actor_role,
                    actor_org_id, public, org_ids, districts, staff_only, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.position,
       CASE s.action WHEN 'create' THEN 'application.created' WHEN 'update' THEN 'application.changed'
                     WHEN 'submit' THEN 'application.submitted' WHEN 'start-review' THEN 'application.review_started'
                     WHEN 'request-changes' THEN 'application.changes_requested'
                     WHEN 'approve' THEN 'application.approved' WHEN 'reject' THEN 'application.rejected'
                     ELSE 'application.withdrawn' END,
       'application', a.id, s.ts,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN a.applicant_sub
            ELSE 'pruefer-' || (1 + (s.n + s.k) % 12) END,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN 'municipality' ELSE 'ministry' END,
       CASE WHEN s.action IN ('create', 'update', 'submit', 'withdraw') THEN a.org_id END,
       false, ARRAY[a.org_id], '{}', false,
       jsonb_build_object(
         'id', a.id,
         'organisation', jsonb_build_object('id', a.org_id, 'ags', a.org_ags, 'name', a.org_name),
         'district', a.district_ags, 'fundingLine', a.line, 'status', s.to_status, 'title', a.title,
         'description', a.description_v1 || CASE WHEN s.updated
           THEN ' Ergänzt: Meilensteinplan mit halbjährlichen Zwischenberichten an die Serviceeinheit.' ELSE '' END,
         'startDate', a.start_date, 'endDate', a.end_date,
         'financingPlan', jsonb_build_object('totalCostsCents', a.total, 'ownFundsCents', a.own,
                                             'thirdPartyFundsCents', a.third, 'requestedCents', a.requested,
                                             'years', NULL),
         'contact', jsonb_build_object('name', a.contact_name, 'email', a.contact_email, 'phone', a.contact_phone),
         'referralId', NULL, 'grantedCents', CASE WHEN s.approved THEN a.granted END, 'decisionReason', r.reason,
         'version', s.k + 1, 'createdAt', bench.ts_json(a.created_at), 'updatedAt', bench.ts_json(s.ts),
         'submittedAt', bench.ts_json(s.submitted_at), 'decidedAt', bench.ts_json(s.decided_at))
FROM bench.states s
JOIN bench.apps a ON a.n = s.n
JOIN bench.evseq e ON e.src = 4 AND e.n = s.n AND e.k = s.k
LEFT JOIN bench.reasons r ON r.action = s.reason_action AND r.variant = a.n % 3;

-- Internal comments: staff only.
INSERT INTO events (id, position, type, resource_kind, resource_id, occurred_at, actor_sub, actor_role,
                    actor_org_id, public, org_ids, districts, staff_only, data) OVERRIDING SYSTEM VALUE
SELECT e.id, e.position, 'application.commented', 'application', a.id, c.ts, c.author_sub, 'service_unit', NULL,
       false, '{}', '{}', true,
       jsonb_build_object('applicationId', a.id,
                          'comment', jsonb_build_object('id', c.id,
                                                        'author', jsonb_build_object('sub', c.author_sub,
                                                                                     'role', 'service_unit',
                                                                                     'organisationId', NULL),
                                                        'body', c.body, 'internal', true,
                                                        'createdAt', bench.ts_json(c.ts)))
FROM bench.comments c
JOIN bench.apps a ON a.n = c.n
JOIN bench.evseq e ON e.src = 6 AND e.n = c.n AND e.k = c.k;

UPDATE funding_lines f SET budget_cents = b.budget, version = 2,
                           updated_at = (SELECT t0 FROM bench.params) - interval '2 days'
FROM bench.budgets b WHERE b.code = f.code;
-- The approved grants' commitments, each in its application's escrow shard (migration 000041): every shard of a
-- line's total is allotted what it commits, then the rest of the budget is spread over them.
UPDATE budget_shards s SET allotted_cents = coalesce(c.committed, 0), committed_cents = coalesce(c.committed, 0)
FROM budget_shards k
LEFT JOIN (SELECT a.funding_line_code AS code, escrow_shard(a.id) AS shard, sum(a.granted_cents)::bigint AS committed
           FROM applications a WHERE a.status = 'approved' GROUP BY 1, 2) c
       ON c.code = k.funding_line_code AND c.shard = k.shard
WHERE k.year = 0 AND s.funding_line_code = k.funding_line_code AND s.year = 0 AND s.shard = k.shard;
SELECT escrow_rebalance(code, 0, 0::smallint, 0) FROM funding_lines ORDER BY code;

SELECT setval(pg_get_serial_sequence('public.events', 'id'), (SELECT max(id) FROM events));
SELECT setval(pg_get_serial_sequence('public.history', 'id'), (SELECT max(id) FROM history));

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT def FROM bench.saved_indexes LOOP EXECUTE r.def; END LOOP;
END $$;

-- ---------------------------------------------------------------------------------------------------------------
-- The grant resources (docs/grants.md): every approved application has its grant notice — a draft while the
-- decision is under ten days old, issued after that (delivered four days after the decision, final a month and a
-- day later); issued notices have payment requests (one, or two for every third; older ones paid, recent ones
-- submitted, checked or approved, signed off by different people) and, once the funded period has ended, the final
-- proof of use (open until its period is over, then submitted or accepted with two different signatures). Chosen by
-- the application's number n, so a scale always yields the same rows. No events or history for these rows: the
-- benchmark reads their lists (their feeds are the applications').
CREATE UNLOGGED TABLE bench.notices AS
SELECT i.n, a.id AS application_id,
       bench.uuid7(a.decided_at + interval '3 days', gen_random_uuid()) AS id,
       CASE WHEN a.decided_at > p.t_end - interval '10 days' THEN 'draft' ELSE 'issued' END AS status,
       a.organisation_id, a.district_ags, a.funding_line_code, a.granted_cents, a.total_costs_cents, a.title,
       a.start_date, a.end_date, a.decided_at, o.kind AS org_kind,
       (a.decided_at AT TIME ZONE 'Europe/Berlin')::date + 4 AS delivered_on
FROM applications a
JOIN bench.ids i ON i.id = a.id
JOIN organisations o ON o.id = a.organisation_id
CROSS JOIN bench.params p
WHERE a.status = 'approved' AND a.granted_cents > 0;
ALTER TABLE bench.notices ADD PRIMARY KEY (n);

INSERT INTO grant_notices (id, application_id, number, status, organisation_id, district_ags, funding_line_code,
                           amount_cents, financing_type, rate_bp, eligible_costs_cents, purpose, period_start,
                           period_end, clause_set, legal_remedy, approved_by, issued_by, delivered_on, final_on,
                           version, created_at, updated_at)
SELECT n.id, n.application_id, 1, n.status, n.organisation_id, n.district_ags, n.funding_line_code, n.granted_cents,
       'anteilsfinanzierung', least(10000, n.granted_cents * 10000 / greatest(n.total_costs_cents, 1))::int,
       n.total_costs_cents, n.title, n.start_date, n.end_date,
       CASE WHEN n.org_kind = 'traeger' THEN 'anbest_p' ELSE 'anbest_gk' END,
       'Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Klage beim Verwaltungsgericht erhoben werden.',
       'bench-pruefer',
       CASE WHEN n.status = 'issued' THEN 'bench-ministerium-2' END,
       CASE WHEN n.status = 'issued' THEN n.delivered_on END,
       CASE WHEN n.status = 'issued' THEN (n.delivered_on + interval '1 month')::date + 1 END,
       CASE WHEN n.status = 'issued' THEN 2 ELSE 1 END,
       n.decided_at, CASE WHEN n.status = 'issued' THEN n.decided_at + interval '4 days' ELSE n.decided_at END
FROM bench.notices n;

INSERT INTO payment_requests (id, notice_id, application_id, organisation_id, district_ags, funding_line_code,
                              fiscal_year, amount_cents, expenses, status, checked_by, first_approval_by, approved_by,
                              paid_on, cash_reference, created_by, version, created_at, updated_at)
SELECT bench.uuid7(r.created_at, gen_random_uuid()), n.id, n.application_id, n.organisation_id, n.district_ags,
       n.funding_line_code, extract(year FROM r.created_at AT TIME ZONE 'Europe/Berlin')::int, r.amount,
       jsonb_build_array(jsonb_build_object('description', 'Personal- und Sachausgaben', 'amountCents', r.amount,
                                            'dueOn', to_char(r.created_at + interval '30 days', 'YYYY-MM-DD'))),
       r.status,
       CASE WHEN r.status <> 'submitted' THEN 'bench-serviceeinheit' END, NULL,
       CASE WHEN r.status IN ('approved', 'paid') THEN 'bench-ministerium-3' END,
       CASE WHEN r.status = 'paid' THEN (r.created_at AT TIME ZONE 'Europe/Berlin')::date + 12 END,
       CASE WHEN r.status = 'paid' THEN 'HKR-' || lpad((n.n * 2 + r.k)::text, 9, '0') END,
       'bench-municipality', CASE r.status WHEN 'submitted' THEN 1 WHEN 'checked' THEN 2 WHEN 'approved' THEN 3 ELSE 4 END,
       r.created_at, r.created_at + CASE r.status WHEN 'submitted' THEN interval '0' ELSE interval '12 days' END
FROM bench.notices n
CROSS JOIN bench.params p
CROSS JOIN LATERAL (
    SELECT k, n.delivered_on + (k * 40 + 10) * interval '1 day' + interval '9 hours' AS created_at,
           greatest(1, n.granted_cents * 2 / 5 / (1 + (n.n % 3 = 0)::int)) AS amount,
           CASE WHEN n.delivered_on + (k * 40 + 10) * interval '1 day' < p.t_end - interval '30 days' THEN 'paid'
                ELSE (ARRAY['submitted', 'checked', 'approved'])[1 + (n.n + k) % 3] END AS status
    FROM generate_series(0, CASE WHEN n.n % 3 = 0 THEN 1 ELSE 0 END) k) r
WHERE n.status = 'issued' AND r.created_at < p.t_end;

INSERT INTO proofs_of_use (id, notice_id, application_id, organisation_id, district_ags, funding_line_code, kind,
                           due_on, status, content_signed_by, financial_signed_by, admitted_cents, submitted_at,
                           version, created_at, updated_at)
SELECT bench.uuid7(n.decided_at + interval '5 days', gen_random_uuid()), n.id, n.application_id, n.organisation_id,
       n.district_ags, n.funding_line_code, 'final', (n.end_date + interval '6 months')::date, x.status,
       CASE WHEN x.status = 'accepted' THEN 'bench-serviceeinheit' END,
       CASE WHEN x.status = 'accepted' THEN 'bench-ministerium-2' END,
       CASE WHEN x.status = 'accepted' THEN n.granted_cents * 9 / 10 END,
       CASE WHEN x.status IN ('submitted', 'accepted') THEN n.end_date + interval '60 days' END,
       CASE x.status WHEN 'open' THEN 1 WHEN 'submitted' THEN 2 ELSE 4 END,
       n.decided_at + interval '5 days', n.decided_at + interval '5 days'
FROM bench.notices n
CROSS JOIN bench.params p
CROSS JOIN LATERAL (SELECT CASE WHEN n.end_date + 60 >= (p.t_end AT TIME ZONE 'Europe/Berlin')::date THEN 'open'
                                WHEN n.n % 4 = 0 THEN 'submitted' ELSE 'accepted' END AS status) x
WHERE n.status = 'issued';

-- What the triggers (off during the load: session_replication_role) keep: the statistics' aggregates (migration
-- 000034) and the feed's audiences (000035), computed set-based with the migrations' own definitions.
TRUNCATE application_stats, funding_stats, event_audience;
INSERT INTO application_stats
SELECT a.id, c.* FROM applications a CROSS JOIN LATERAL application_contribution(a.id) c;
INSERT INTO funding_stats (funding_line_code, district_ags, status, year, shard, n, requested_cents, granted_cents,
                           paid_cents, admitted_cents, reclaimed_cents, interest_cents)
SELECT funding_line_code, district_ags, status, year, shard, count(*), sum(requested_cents), sum(granted_cents),
       sum(paid_cents), sum(admitted_cents), sum(reclaimed_cents), sum(interest_cents)
FROM application_stats GROUP BY funding_line_code, district_ags, status, year, shard;
INSERT INTO event_audience (audience, position)
SELECT k.audience, e.position
FROM events e
CROSS JOIN LATERAL event_audiences(e.public, e.org_ids, e.districts) k(audience)
WHERE e.position IS NOT NULL AND NOT e.staff_only
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------------------------------------------------------
-- Checks: every constraint the triggers would have checked, and the invariants of the service.
DO $$
DECLARE bad bigint;
BEGIN
  SELECT count(*) INTO bad FROM applications a LEFT JOIN organisations o ON o.id = a.organisation_id
   WHERE o.id IS NULL OR o.district_ags <> a.district_ags;
  IF bad > 0 THEN RAISE EXCEPTION '% applications without their organisation or with another district', bad; END IF;
  SELECT count(*) INTO bad FROM applications a WHERE NOT EXISTS (SELECT 1 FROM funding_lines f WHERE f.code = a.funding_line_code)
      OR NOT EXISTS (SELECT 1 FROM districts d WHERE d.ags = a.district_ags);
  IF bad > 0 THEN RAISE EXCEPTION '% applications with an unknown funding line or district', bad; END IF;
  SELECT count(*) INTO bad FROM organisations o WHERE NOT EXISTS (SELECT 1 FROM districts d WHERE d.ags = o.district_ags);
  IF bad > 0 THEN RAISE EXCEPTION '% organisations with an unknown district', bad; END IF;
  SELECT count(*) INTO bad FROM application_comments c WHERE NOT EXISTS (SELECT 1 FROM applications a WHERE a.id = c.application_id);
  IF bad > 0 THEN RAISE EXCEPTION '% comments without their application', bad; END IF;
  -- committed = sum of the approved grants, within the budget
  SELECT count(*) INTO bad FROM funding_lines f
   WHERE f.committed_cents <> coalesce((SELECT sum(granted_cents) FROM applications a
                                         WHERE a.funding_line_code = f.code AND a.status = 'approved'), 0)
      OR f.committed_cents > f.budget_cents;
  IF bad > 0 THEN RAISE EXCEPTION '% funding lines whose committed sum is not the sum of their grants', bad; END IF;
  -- the feed: positions 1..N without gaps, in id order, nothing left to sequence
  SELECT count(*) INTO bad FROM events WHERE position IS NULL;
  IF bad > 0 THEN RAISE EXCEPTION '% events without a position', bad; END IF;
  IF (SELECT max(position) - count(*) FROM events) <> 0 OR (SELECT min(position) FROM events) <> 1 THEN
    RAISE EXCEPTION 'event positions have gaps';
  END IF;
  IF EXISTS (SELECT 1 FROM (SELECT position - lag(position) OVER (ORDER BY id) AS d FROM events) x WHERE d <> 1) THEN
    RAISE EXCEPTION 'event positions are not in id order';
  END IF;
  IF EXISTS (SELECT 1 FROM (SELECT occurred_at < lag(occurred_at) OVER (ORDER BY position) AS back FROM events) x
             WHERE back) THEN
    RAISE EXCEPTION 'event positions are not in time order';
  END IF;
  -- one history row and one event per version; the last event shows the row as it is
  SELECT count(*) INTO bad FROM applications a
   WHERE a.version <> (SELECT count(*) FROM history h WHERE h.resource_kind = 'application' AND h.resource_id = a.id);
  IF bad > 0 THEN RAISE EXCEPTION '% applications whose history does not match their version', bad; END IF;
  SELECT count(*) INTO bad FROM applications a
  JOIN LATERAL (SELECT e.data FROM events e WHERE e.resource_kind = 'application' AND e.resource_id = a.id
                  AND e.type <> 'application.commented' ORDER BY e.position DESC LIMIT 1) last ON true
   WHERE last.data->>'status' <> a.status OR (last.data->>'version')::bigint <> a.version
      OR (last.data->>'updatedAt') <> bench.ts_json(a.updated_at)
      OR (last.data->>'description') <> a.description
      OR (last.data->'grantedCents') <> coalesce(to_jsonb(a.granted_cents), 'null'::jsonb);
  IF bad > 0 THEN RAISE EXCEPTION '% applications whose last event does not show them as they are', bad; END IF;
  -- every submitted application satisfies the rules of its line
  SELECT count(*) INTO bad FROM applications a JOIN funding_lines f ON f.code = a.funding_line_code
    JOIN organisations o ON o.id = a.organisation_id
   WHERE a.submitted_at IS NOT NULL AND NOT (
         a.total_costs_cents = a.own_funds_cents + a.third_party_funds_cents + a.requested_cents
     AND a.requested_cents <= coalesce(f.max_amount_cents, a.requested_cents)
     AND a.requested_cents * 10000 <= f.max_rate_bp::bigint * a.total_costs_cents
     AND a.requested_cents * 10000 >= f.min_rate_bp::bigint * a.total_costs_cents
     AND o.kind = ANY (f.eligible_applicant_kinds)
     AND (a.submitted_at AT TIME ZONE 'Europe/Berlin')::date >= f.opens_on
     AND a.end_date >= a.start_date
     AND ((extract(year FROM a.end_date + 1) - extract(year FROM a.start_date)) * 12
          + extract(month FROM a.end_date + 1) - extract(month FROM a.start_date)) <= f.max_duration_months
     AND (f.yearly_cap_cents IS NULL OR a.requested_cents <= f.yearly_cap_cents
          * ceil(((extract(year FROM a.end_date + 1) - extract(year FROM a.start_date)) * 12
                  + extract(month FROM a.end_date + 1) - extract(month FROM a.start_date)) / 12.0))
     AND a.contact_name IS NOT NULL AND a.contact_email IS NOT NULL AND a.contact_phone IS NOT NULL
     AND a.description <> '');
  IF bad > 0 THEN RAISE EXCEPTION '% submitted applications break a rule of their funding line', bad; END IF;
END $$;

DROP TABLE bench.draws, bench.steps, bench.states, bench.evseq, bench.approvals, bench.comments, bench.notices;

COMMIT;

SET session_replication_role = origin;
VACUUM (ANALYZE) organisations, funding_lines, applications, application_comments, history, events, application_stats,
  funding_stats, event_audience, grant_notices, payment_requests, proofs_of_use;
CHECKPOINT;

SELECT (SELECT count(*) FROM organisations) AS organisations, (SELECT count(*) FROM applications) AS applications,
       (SELECT count(*) FROM history) AS history_rows, (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM application_comments) AS comments, (SELECT count(*) FROM grant_notices) AS notices,
       (SELECT count(*) FROM payment_requests) AS payment_requests, (SELECT count(*) FROM proofs_of_use) AS proofs,
       pg_size_pretty(pg_database_size(current_database())) AS database_size;
SELECT status, count(*) FROM applications GROUP BY status ORDER BY status;
SELECT funding_line_code, count(*), sum(granted_cents) AS granted, max(f.budget_cents) AS budget
FROM applications JOIN funding_lines f ON f.code = funding_line_code GROUP BY funding_line_code ORDER BY 1;
