-- Mittelabrufe (ANBest Nr. 1.4): the recipient requests what it needs for payments due soon; two ministry people
-- sign off (sachlich richtig, rechnerisch richtig with the payment order), a third above a line's threshold; the
-- payment is recorded with its date and the cash office's reference.

-- The line's settings (defaults from docs/grants.md).
ALTER TABLE funding_lines
    ADD COLUMN payout_window_months integer NOT NULL DEFAULT 2 CHECK (payout_window_months BETWEEN 0 AND 24),
    ADD COLUMN retention_bp integer NOT NULL DEFAULT 0 CHECK (retention_bp BETWEEN 0 AND 10000),
    ADD COLUMN third_signoff_above_cents bigint CHECK (third_signoff_above_cents >= 0),
    ADD COLUMN payments_require_final boolean NOT NULL DEFAULT false;

-- Per grant and fiscal year: what approved payment requests take of the commitment (paid ones included).
ALTER TABLE grant_years
    ADD COLUMN approved_cents bigint NOT NULL DEFAULT 0 CHECK (approved_cents >= 0),
    ADD CONSTRAINT grant_years_approved_within_committed CHECK (approved_cents <= committed_cents),
    ADD CONSTRAINT grant_years_paid_within_approved CHECK (paid_cents <= approved_cents);
ALTER TABLE grant_years DROP CONSTRAINT grant_years_paid_within_committed;

CREATE TABLE payment_requests (
    id uuid PRIMARY KEY,
    notice_id uuid NOT NULL REFERENCES grant_notices (id),
    application_id uuid NOT NULL REFERENCES applications (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    district_ags text NOT NULL,
    funding_line_code text NOT NULL REFERENCES funding_lines (code),
    fiscal_year integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2100),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    -- The due expenses the request is for: [{"description", "amountCents", "dueOn"}].
    expenses jsonb NOT NULL DEFAULT '[]',
    status text NOT NULL CHECK (status IN ('draft', 'submitted', 'checked', 'approved', 'paid', 'returned',
                                           'rejected', 'cancelled')),
    checked_by text,
    first_approval_by text,
    approved_by text,
    paid_on date,
    cash_reference text,
    reason text,
    created_by text NOT NULL,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Vier-Augen-Prinzip: who checked does not approve; a third sign-off is a third person.
    CONSTRAINT payment_requests_four_eyes CHECK (approved_by IS NULL OR approved_by <> checked_by),
    CONSTRAINT payment_requests_third_eyes CHECK (
        first_approval_by IS NULL OR (first_approval_by <> checked_by
                                      AND (approved_by IS NULL OR approved_by <> first_approval_by))),
    CONSTRAINT payment_requests_paid_is_recorded CHECK (status <> 'paid' OR (paid_on IS NOT NULL AND cash_reference IS NOT NULL))
);
CREATE INDEX payment_requests_notice ON payment_requests (notice_id, id);
CREATE INDEX payment_requests_organisation ON payment_requests (organisation_id, id);
CREATE INDEX payment_requests_status ON payment_requests (status, id);
