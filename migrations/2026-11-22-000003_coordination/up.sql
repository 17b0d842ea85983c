-- The service unit's work: health coordinators, committees with members and meetings, referrals with targets.
-- The application history becomes the history of every resource.

ALTER TABLE application_history RENAME TO history;
ALTER TABLE history RENAME COLUMN application_id TO resource_id;
ALTER TABLE history DROP CONSTRAINT application_history_application_id_fkey;
ALTER TABLE history ADD COLUMN resource_kind text NOT NULL DEFAULT 'application';
ALTER TABLE history ALTER COLUMN resource_kind DROP DEFAULT;
ALTER TABLE history ALTER COLUMN to_status DROP NOT NULL;
DROP INDEX application_history_application_idx;
CREATE INDEX history_resource_idx ON history (resource_kind, resource_id, id);

-- Gesundheitskoordinatorinnen und -koordinatoren. Personal fields are NULL once erased (GDPR Art. 17); the row
-- stays as an anonymous placeholder so that memberships and other references remain valid.
CREATE TABLE coordinators (
    id                     uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    name                   text CHECK (char_length(name) BETWEEN 2 AND 200),
    email                  text CHECK (char_length(email) <= 254),
    phone                  text CHECK (char_length(phone) <= 50),
    district_ags           text NOT NULL REFERENCES districts (ags),
    employer_id            uuid NOT NULL REFERENCES organisations (id),
    fte_bp                 integer NOT NULL CHECK (fte_bp > 0 AND fte_bp <= 10000),
    start_date             date NOT NULL,
    end_date               date,
    status                 text NOT NULL CHECK (status IN ('active', 'on_leave', 'left')),
    funding_application_id uuid REFERENCES applications (id),
    erased_at              timestamptz,
    version                bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT coordinators_dates_ordered CHECK (end_date IS NULL OR end_date >= start_date),
    CONSTRAINT coordinators_erased_is_anonymous CHECK (erased_at IS NULL OR (name IS NULL AND email IS NULL AND phone IS NULL)),
    CONSTRAINT coordinators_named_unless_erased CHECK (erased_at IS NOT NULL OR name IS NOT NULL)
);
CREATE INDEX coordinators_district_idx ON coordinators (district_ags, id);
CREATE INDEX coordinators_status_idx ON coordinators (status, id);

-- Gremien und Arbeitsgruppen.
CREATE TABLE committees (
    id                         uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    name                       text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 3 AND 200),
    kind                       text NOT NULL CHECK (kind IN ('gremium', 'working_group', 'regional_conference',
                                                             'other_ministry_unit')),
    owning_body                text NOT NULL CHECK (char_length(owning_body) BETWEEN 2 AND 200),
    topics                     text[] NOT NULL DEFAULT '{}',
    coverage                   text NOT NULL CHECK (coverage IN ('hessen', 'versorgungsgebiet', 'districts')),
    coverage_versorgungsgebiet text,
    coverage_districts         text[] NOT NULL DEFAULT '{}',
    contact_name               text,
    contact_email              text,
    version                    bigint NOT NULL DEFAULT 1,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT committees_coverage_consistent CHECK (
        (coverage = 'hessen' AND coverage_versorgungsgebiet IS NULL AND coverage_districts = '{}')
        OR (coverage = 'versorgungsgebiet' AND coverage_versorgungsgebiet IS NOT NULL AND coverage_districts = '{}')
        OR (coverage = 'districts' AND coverage_versorgungsgebiet IS NULL AND coverage_districts <> '{}'))
);

CREATE TABLE committee_members (
    id                    uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    committee_id          uuid NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    coordinator_id        uuid REFERENCES coordinators (id),
    external_name         text CHECK (char_length(external_name) BETWEEN 2 AND 200),
    external_organisation text CHECK (char_length(external_organisation) <= 200),
    external_email        text CHECK (char_length(external_email) <= 254),
    role                  text CHECK (char_length(role) <= 100),
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT committee_members_one_kind CHECK ((coordinator_id IS NULL) <> (external_name IS NULL)),
    CONSTRAINT committee_members_unique_coordinator UNIQUE (committee_id, coordinator_id)
);
CREATE INDEX committee_members_committee_idx ON committee_members (committee_id, id);

CREATE TABLE committee_meetings (
    id           uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    committee_id uuid NOT NULL REFERENCES committees (id) ON DELETE CASCADE,
    date         date NOT NULL,
    title        text NOT NULL CHECK (char_length(title) BETWEEN 3 AND 200),
    place        text CHECK (char_length(place) <= 300),
    link         text CHECK (char_length(link) <= 500),
    agenda       jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX committee_meetings_committee_idx ON committee_meetings (committee_id, date, id);

-- Vermittlungen: ideas routed from the regions into committees, and committees' requests into the regions.
CREATE TABLE referrals (
    id                     uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    direction              text NOT NULL CHECK (direction IN ('region_to_committee', 'committee_to_region')),
    origin_organisation_id uuid REFERENCES organisations (id),
    -- The origin organisation's district (which never changes), for visibility and filters.
    origin_district_ags    text REFERENCES districts (ags),
    origin_committee_id    uuid REFERENCES committees (id),
    subject                text NOT NULL CHECK (char_length(subject) BETWEEN 3 AND 200),
    description            text NOT NULL DEFAULT '' CHECK (char_length(description) <= 20000),
    topics                 text[] NOT NULL DEFAULT '{}',
    due_date               date,
    status                 text NOT NULL DEFAULT 'received' CHECK (status IN
                               ('received', 'in_triage', 'forwarded', 'answered', 'closed', 'declined')),
    outcome                text CHECK (char_length(outcome) <= 5000),
    version                bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referrals_origin_matches_direction CHECK (
        (direction = 'region_to_committee' AND origin_organisation_id IS NOT NULL AND origin_committee_id IS NULL
            AND origin_district_ags IS NOT NULL)
        OR (direction = 'committee_to_region' AND origin_committee_id IS NOT NULL AND origin_organisation_id IS NULL
            AND origin_district_ags IS NULL))
);
CREATE INDEX referrals_created_idx ON referrals (created_at, id);
CREATE INDEX referrals_status_idx ON referrals (status, created_at, id);
CREATE INDEX referrals_origin_org_idx ON referrals (origin_organisation_id);
CREATE INDEX referrals_origin_district_idx ON referrals (origin_district_ags);
CREATE INDEX referrals_due_idx ON referrals (due_date) WHERE status NOT IN ('closed', 'declined');

CREATE TABLE referral_targets (
    id           uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    referral_id  uuid NOT NULL REFERENCES referrals (id),
    committee_id uuid REFERENCES committees (id),
    district_ags text REFERENCES districts (ags),
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'answered')),
    answer       text CHECK (char_length(answer) <= 10000),
    answered_at  timestamptz,
    answered_by  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referral_targets_one_kind CHECK ((committee_id IS NULL) <> (district_ags IS NULL)),
    CONSTRAINT referral_targets_answer_consistent CHECK ((state = 'answered') = (answer IS NOT NULL)),
    CONSTRAINT referral_targets_unique_committee UNIQUE (referral_id, committee_id),
    CONSTRAINT referral_targets_unique_district UNIQUE (referral_id, district_ags)
);
CREATE INDEX referral_targets_district_idx ON referral_targets (district_ags, referral_id);

-- An application may name the referral it grew from.
ALTER TABLE applications ADD CONSTRAINT applications_referral_fkey FOREIGN KEY (referral_id) REFERENCES referrals (id);
CREATE INDEX applications_referral_idx ON applications (referral_id) WHERE referral_id IS NOT NULL;

-- The real bodies the service unit works with.
INSERT INTO committees (name, kind, owning_body, topics, coverage, coverage_versorgungsgebiet)
SELECT 'Regionale Gesundheitskonferenz ' || vg, 'regional_conference',
       'Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege',
       ARRAY['Versorgungsplanung', 'sektorenübergreifende Versorgung'], 'versorgungsgebiet', vg
FROM (SELECT DISTINCT versorgungsgebiet AS vg FROM districts) v ORDER BY vg;

INSERT INTO committees (name, kind, owning_body, topics, coverage) VALUES
    ('Gemeinsames Landesgremium nach § 90a SGB V', 'gremium',
     'Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege',
     ARRAY['sektorenübergreifende Versorgung', 'Bedarfsplanung'], 'hessen'),
    ('Landeskrankenhausausschuss', 'gremium',
     'Hessisches Ministerium für Familie, Senioren, Sport, Gesundheit und Pflege',
     ARRAY['Krankenhausplanung'], 'hessen'),
    ('Landesausschuss der Ärzte und Krankenkassen', 'gremium',
     'Kassenärztliche Vereinigung Hessen und Landesverbände der Krankenkassen',
     ARRAY['Bedarfsplanung', 'vertragsärztliche Versorgung'], 'hessen'),
    ('Pakt für Gesundheit', 'gremium',
     'Hessische Landesregierung',
     ARRAY['ärztliche Versorgung im ländlichen Raum', 'Nachwuchsgewinnung'], 'hessen'),
    ('AG Gesundheitszentren', 'working_group',
     'Serviceeinheit Gesundheitsversorgung',
     ARRAY['Gesundheitszentren', 'MVZ', 'sektorenübergreifende Versorgung'], 'hessen');
