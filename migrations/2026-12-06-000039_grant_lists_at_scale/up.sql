-- The grant notices' list by funding line at a million applications (docs/performance.md S6; found by bench/run's
-- plan check): `GET /grant-notices?status=issued&fundingLine=…` walked the primary key and filtered every notice
-- (422 ms at 1,000,000 applications, 338,000 notices). Indexes by line, and by line and status, in the list's order
-- (id), so that a filtered first page reads only its 51 rows.
CREATE INDEX grant_notices_line ON grant_notices (funding_line_code, id);
CREATE INDEX grant_notices_line_status ON grant_notices (funding_line_code, status, id);
