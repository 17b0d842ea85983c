-- Zuwendungsbescheide (VV Nr. 4.2 zu § 44 LHO): the notice that `approve` drafts, the ministry completes and issues,
-- and that becomes final (bestandskräftig) one month after delivery or on a waiver of objection. An amending notice
-- is a new number of the same application's notice; every number is kept.
CREATE TABLE grant_notices (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id),
    number integer NOT NULL DEFAULT 1 CHECK (number >= 1),
    status text NOT NULL CHECK (status IN ('draft', 'issued', 'amended', 'closed', 'revoked')),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    financing_type text NOT NULL CHECK (financing_type IN ('anteilsfinanzierung', 'festbetrag', 'fehlbedarf')),
    rate_bp integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    eligible_costs_cents bigint NOT NULL CHECK (eligible_costs_cents >= 0),
    purpose text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    lock_in_until date,
    clause_set text NOT NULL CHECK (clause_set IN ('anbest_gk', 'anbest_p')),
    excluded_clauses text[] NOT NULL DEFAULT '{}',
    conditions text[] NOT NULL DEFAULT '{}',
    legal_remedy text NOT NULL,
    approved_by text NOT NULL,
    issued_by text,
    delivered_on date,
    objection_waived_on date,
    final_on date,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, number),
    CHECK (period_end >= period_start),
    -- Issued means delivered, with the day it becomes final.
    CONSTRAINT grant_notices_issued_is_delivered
        CHECK (status = 'draft' OR (issued_by IS NOT NULL AND delivered_on IS NOT NULL AND final_on IS NOT NULL)),
    -- Vier-Augen-Prinzip: who approved the application does not issue its notice (the service checks first).
    CONSTRAINT grant_notices_four_eyes CHECK (issued_by IS NULL OR issued_by <> approved_by)
);
CREATE INDEX grant_notices_organisation ON grant_notices (organisation_id, id);
CREATE INDEX grant_notices_status ON grant_notices (status, id);
