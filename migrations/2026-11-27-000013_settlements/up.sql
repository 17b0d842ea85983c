-- Schlussabrechnung: once the final proof of use is accepted, the ministry settles the grant (one person proposes,
-- another confirms). The confirmation closes the notice and gives back to the line's fiscal-year budgets what the
-- grant no longer needs.

ALTER TABLE funding_lines
    ADD COLUMN plan_line_tolerance_bp integer NOT NULL DEFAULT 2000 CHECK (plan_line_tolerance_bp BETWEEN 0 AND 10000);

CREATE TABLE settlements (
    id uuid PRIMARY KEY,
    notice_id uuid NOT NULL REFERENCES grant_notices (id),
    application_id uuid NOT NULL UNIQUE REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    status text NOT NULL CHECK (status IN ('proposed', 'confirmed')),
    financing_type text NOT NULL CHECK (financing_type IN ('anteilsfinanzierung', 'festbetrag', 'fehlbedarf')),
    granted_cents bigint NOT NULL CHECK (granted_cents >= 0),
    rate_bp integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    planned_eligible_cents bigint NOT NULL CHECK (planned_eligible_cents >= 0),
    admitted_cents bigint NOT NULL CHECK (admitted_cents >= 0),
    planned_other_income_cents bigint NOT NULL CHECK (planned_other_income_cents >= 0),
    actual_other_income_cents bigint NOT NULL CHECK (actual_other_income_cents >= 0),
    tolerance_bp integer NOT NULL CHECK (tolerance_bp BETWEEN 0 AND 10000),
    eligible_cents bigint NOT NULL CHECK (eligible_cents >= 0),
    not_eligible_cents bigint NOT NULL CHECK (not_eligible_cents >= 0),
    due_cents bigint NOT NULL CHECK (due_cents >= 0),
    reason text NOT NULL,
    paid_cents bigint NOT NULL CHECK (paid_cents >= 0),
    released_cents bigint CHECK (released_cents >= 0),
    proposed_by text NOT NULL,
    confirmed_by text,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT settlements_due_within_grant CHECK (due_cents <= granted_cents),
    -- Vier-Augen-Prinzip: who proposed the settlement does not confirm it.
    CONSTRAINT settlements_four_eyes CHECK (confirmed_by IS NULL OR confirmed_by <> proposed_by),
    CONSTRAINT settlements_confirmed_is_signed CHECK ((status = 'confirmed') = (confirmed_by IS NOT NULL))
);
CREATE INDEX settlements_organisation ON settlements (organisation_id, id);
