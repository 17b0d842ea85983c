-- Haushaltsjahre: each funding line has a budget per fiscal year; an approval commits its grant per year, and
-- (with the payment requests) what is paid is booked against the year it is paid in. The CHECK constraints are the
-- backstop of the rules that the service enforces in the approving or paying transaction.
CREATE TABLE funding_line_years (
    funding_line_code text NOT NULL REFERENCES funding_lines (code) ON DELETE CASCADE,
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    budget_cents bigint NOT NULL CHECK (budget_cents >= 0),
    committed_cents bigint NOT NULL DEFAULT 0 CHECK (committed_cents >= 0),
    paid_cents bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (funding_line_code, year),
    CONSTRAINT funding_line_years_committed_within_budget CHECK (committed_cents <= budget_cents),
    CONSTRAINT funding_line_years_paid_within_committed CHECK (paid_cents <= committed_cents)
);

-- What an approved application's grant commits in each fiscal year (the notice's breakdown), and what of it is paid.
CREATE TABLE grant_years (
    application_id uuid NOT NULL REFERENCES applications (id),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    funding_line_code text NOT NULL,
    committed_cents bigint NOT NULL CHECK (committed_cents >= 0),
    paid_cents bigint NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
    PRIMARY KEY (application_id, year),
    FOREIGN KEY (funding_line_code, year) REFERENCES funding_line_years (funding_line_code, year),
    CONSTRAINT grant_years_paid_within_committed CHECK (paid_cents <= committed_cents)
);
CREATE INDEX grant_years_line_year ON grant_years (funding_line_code, year);

-- The fiscal years of the programme's lines until now: each year starts with the line's whole budget as its
-- appropriation (the ministry sets the real figures with PUT /funding-lines/{code}/years/{year}).
INSERT INTO funding_line_years (funding_line_code, year, budget_cents)
SELECT code, y, budget_cents FROM funding_lines, generate_series(2026, 2032) AS y;

-- Grants approved before fiscal years existed are committed in the year of their decision.
INSERT INTO funding_line_years (funding_line_code, year, budget_cents)
SELECT DISTINCT a.funding_line_code, extract(year FROM a.decided_at)::integer, l.budget_cents
FROM applications a JOIN funding_lines l ON l.code = a.funding_line_code
WHERE a.status = 'approved' AND a.decided_at IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO grant_years (application_id, year, funding_line_code, committed_cents)
SELECT id, extract(year FROM decided_at)::integer, funding_line_code, coalesce(granted_cents, 0)
FROM applications WHERE status = 'approved' AND decided_at IS NOT NULL;
UPDATE funding_line_years y SET committed_cents = g.total
FROM (SELECT funding_line_code, year, sum(committed_cents)::bigint AS total FROM grant_years
      GROUP BY funding_line_code, year) g
WHERE g.funding_line_code = y.funding_line_code AND g.year = y.year;
