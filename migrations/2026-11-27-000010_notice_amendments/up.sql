-- Änderungsbescheide: an amending notice is the next number of the same application's notice. It starts as a
-- draft copy of the notice in force (with the new breakdown by fiscal year), is completed and issued by two
-- ministry people like the first one, and on issue replaces the notice in force (`amended`) while the ledger
-- follows its amounts. Every number is kept with its own breakdown.
ALTER TABLE grant_notices
    ADD COLUMN amends uuid REFERENCES grant_notices (id),
    ADD COLUMN amendment_reason text,
    ADD CONSTRAINT grant_notices_amendment_is_numbered
        CHECK ((number = 1) = (amends IS NULL) AND (amends IS NULL) = (amendment_reason IS NULL));

-- One working draft per grant, and at most one notice in force: the backstop of the service's checks.
CREATE UNIQUE INDEX grant_notices_one_draft ON grant_notices (application_id) WHERE status = 'draft';
CREATE UNIQUE INDEX grant_notices_one_in_force ON grant_notices (application_id) WHERE status = 'issued';

-- Each notice's amount by fiscal year, as that notice states it (the ledger's grant_years follows the notice in
-- force).
CREATE TABLE grant_notice_years (
    notice_id uuid NOT NULL REFERENCES grant_notices (id) ON DELETE CASCADE,
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    PRIMARY KEY (notice_id, year)
);

INSERT INTO grant_notice_years (notice_id, year, amount_cents)
SELECT n.id, g.year, g.committed_cents
FROM grant_notices n JOIN grant_years g ON g.application_id = n.application_id;
