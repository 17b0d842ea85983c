-- Foundation: ids, reference data (districts, organisations) and funding lines.

-- Time-ordered UUIDs (v7) made by the database, so every writer (any instance, any script) uses the same scheme.
CREATE FUNCTION uuid_generate_v7() RETURNS uuid AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$ LANGUAGE sql VOLATILE PARALLEL SAFE;

-- Kreise und kreisfreie Städte: Hessen's 26 districts, keyed by their five-digit AGS.
CREATE TABLE districts (
    ags               text PRIMARY KEY CHECK (ags ~ '^06[0-9]{3}$'),
    name              text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('landkreis', 'kreisfreie_stadt')),
    regierungsbezirk  text NOT NULL,
    versorgungsgebiet text NOT NULL
);

INSERT INTO districts (ags, name, kind, regierungsbezirk, versorgungsgebiet) VALUES
    ('06411', 'Darmstadt', 'kreisfreie_stadt', 'Darmstadt', 'Darmstadt'),
    ('06412', 'Frankfurt am Main', 'kreisfreie_stadt', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06413', 'Offenbach am Main', 'kreisfreie_stadt', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06414', 'Wiesbaden', 'kreisfreie_stadt', 'Darmstadt', 'Wiesbaden-Limburg'),
    ('06431', 'Bergstraße', 'landkreis', 'Darmstadt', 'Darmstadt'),
    ('06432', 'Darmstadt-Dieburg', 'landkreis', 'Darmstadt', 'Darmstadt'),
    ('06433', 'Groß-Gerau', 'landkreis', 'Darmstadt', 'Darmstadt'),
    ('06434', 'Hochtaunuskreis', 'landkreis', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06435', 'Main-Kinzig-Kreis', 'landkreis', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06436', 'Main-Taunus-Kreis', 'landkreis', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06437', 'Odenwaldkreis', 'landkreis', 'Darmstadt', 'Darmstadt'),
    ('06438', 'Offenbach', 'landkreis', 'Darmstadt', 'Frankfurt-Offenbach'),
    ('06439', 'Rheingau-Taunus-Kreis', 'landkreis', 'Darmstadt', 'Wiesbaden-Limburg'),
    ('06440', 'Wetteraukreis', 'landkreis', 'Darmstadt', 'Gießen-Marburg'),
    ('06531', 'Gießen', 'landkreis', 'Gießen', 'Gießen-Marburg'),
    ('06532', 'Lahn-Dill-Kreis', 'landkreis', 'Gießen', 'Gießen-Marburg'),
    ('06533', 'Limburg-Weilburg', 'landkreis', 'Gießen', 'Wiesbaden-Limburg'),
    ('06534', 'Marburg-Biedenkopf', 'landkreis', 'Gießen', 'Gießen-Marburg'),
    ('06535', 'Vogelsbergkreis', 'landkreis', 'Gießen', 'Fulda-Bad Hersfeld'),
    ('06611', 'Kassel', 'kreisfreie_stadt', 'Kassel', 'Kassel'),
    ('06631', 'Fulda', 'landkreis', 'Kassel', 'Fulda-Bad Hersfeld'),
    ('06632', 'Hersfeld-Rotenburg', 'landkreis', 'Kassel', 'Fulda-Bad Hersfeld'),
    ('06633', 'Kassel', 'landkreis', 'Kassel', 'Kassel'),
    ('06634', 'Schwalm-Eder-Kreis', 'landkreis', 'Kassel', 'Kassel'),
    ('06635', 'Waldeck-Frankenberg', 'landkreis', 'Kassel', 'Kassel'),
    ('06636', 'Werra-Meißner-Kreis', 'landkreis', 'Kassel', 'Kassel');

-- Organisations: every district is one; Gemeinden (eight-digit AGS) and Träger (no AGS) are added by the ministry
-- or the service unit. Identity fields (id, ags, kind, district) never change once written.
CREATE TABLE organisations (
    id           uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    ags          text UNIQUE CHECK (ags ~ '^06[0-9]{3}([0-9]{3})?$'),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 2 AND 200),
    kind         text NOT NULL CHECK (kind IN ('landkreis', 'kreisfreie_stadt', 'gemeinde', 'traeger')),
    district_ags text NOT NULL REFERENCES districts (ags),
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisations_ags_within_district CHECK (ags IS NULL OR left(ags, 5) = district_ags),
    CONSTRAINT organisations_ags_matches_kind CHECK (
        (kind IN ('landkreis', 'kreisfreie_stadt') AND ags = district_ags)
        OR (kind = 'gemeinde' AND char_length(ags) = 8)
        OR (kind = 'traeger' AND ags IS NULL))
);
CREATE INDEX organisations_district_idx ON organisations (district_ags, id);
CREATE INDEX organisations_kind_idx ON organisations (kind, id);

INSERT INTO organisations (ags, name, kind, district_ags)
SELECT ags,
       CASE kind WHEN 'landkreis' THEN 'Landkreis ' || name ELSE 'Stadt ' || name END,
       kind, ags
FROM districts ORDER BY ags;

-- Förderlinien: the funding lines of the guideline. Figures that are not public are configuration (seeded here,
-- edited by the ministry through the API); the budget invariant lives in the CHECK below and nowhere else.
CREATE TABLE funding_lines (
    code                     text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]{1,9}$'),
    title                    text NOT NULL,
    description              text NOT NULL DEFAULT '',
    guideline_reference      text NOT NULL,
    eligible_applicant_kinds text[] NOT NULL,
    opens_on                 date,
    closes_on                date,
    max_amount_cents         bigint CHECK (max_amount_cents >= 0),
    min_rate_bp              integer NOT NULL CHECK (min_rate_bp BETWEEN 0 AND 10000),
    max_rate_bp              integer NOT NULL CHECK (max_rate_bp BETWEEN 0 AND 10000),
    max_duration_months      integer CHECK (max_duration_months BETWEEN 1 AND 240),
    yearly_cap_cents         bigint CHECK (yearly_cap_cents >= 0),
    budget_cents             bigint NOT NULL CHECK (budget_cents >= 0),
    committed_cents          bigint NOT NULL DEFAULT 0 CHECK (committed_cents >= 0),
    version                  bigint NOT NULL DEFAULT 1,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT funding_lines_rates_ordered CHECK (min_rate_bp <= max_rate_bp),
    CONSTRAINT funding_lines_window_ordered CHECK (opens_on IS NULL OR closes_on IS NULL OR opens_on <= closes_on),
    CONSTRAINT funding_lines_committed_within_budget CHECK (committed_cents <= budget_cents)
);

INSERT INTO funding_lines (code, title, description, guideline_reference, eligible_applicant_kinds, opens_on,
                           closes_on, max_amount_cents, min_rate_bp, max_rate_bp, max_duration_months,
                           yearly_cap_cents, budget_cents) VALUES
    ('GK', 'Personalstelle Gesundheitskoordination',
     'Förderung einer Personalstelle für Gesundheitskoordination im Rahmen einer kommunalen Gesundheitsstrategie.',
     'Teil II Nr. 1', ARRAY['landkreis', 'kreisfreie_stadt'], '2026-01-01', NULL,
     22500000, 0, 10000, 60, 4500000, 500000000),
    ('VA', 'Versorgungsanalysen und -konzepte',
     'Analysen der gesundheitlichen Versorgung vor Ort und darauf aufbauende Versorgungskonzepte.',
     'Teil II Nr. 2', ARRAY['landkreis', 'kreisfreie_stadt', 'gemeinde', 'traeger'], '2026-01-01', NULL,
     5000000, 0, 8000, 24, NULL, 150000000),
    ('GZ', 'Aufbau sektorenübergreifender lokaler Gesundheitszentren',
     'Planung und Aufbau sektorenübergreifender lokaler Gesundheitszentren einschließlich Medizinischer Versorgungszentren.',
     'Teil II Nr. 2', ARRAY['landkreis', 'kreisfreie_stadt', 'gemeinde', 'traeger'], '2026-01-01', NULL,
     20000000, 0, 8000, 36, NULL, 300000000),
    ('MV', 'Modellhafte Erprobung innovativer sektorenübergreifender Versorgungsformen',
     'Modellvorhaben zur Erprobung innovativer, sektorenübergreifender Versorgungsformen; gefördert werden 40 bis 90 Prozent der zuwendungsfähigen Personal- und Sachausgaben.',
     'Teil II Nr. 2', ARRAY['landkreis', 'kreisfreie_stadt', 'gemeinde', 'traeger'], '2026-01-01', NULL,
     30000000, 4000, 9000, 36, NULL, 400000000),
    ('PX', 'Gründung oder Übernahme von Einzel- oder Zweigpraxen',
     'Zuschuss zur Gründung oder Übernahme von Einzel- oder Zweigpraxen; der Erwerb eines Vertragsarztsitzes sowie Finanzierungs- und Kreditkosten sind nicht förderfähig.',
     'Teil II Nr. 2', ARRAY['landkreis', 'kreisfreie_stadt', 'gemeinde', 'traeger'], '2026-01-01', NULL,
     6000000, 0, 5000, 24, NULL, 200000000);
