-- Notices in their objection period, read day by day (src/grant_notices/store.rs `issued_by_day`, docs/performance.md
-- S8): per day on which periods end, in id order, with and without the line's filter.
CREATE INDEX grant_notices_issued_line_day ON grant_notices (funding_line_code, final_on, id) WHERE status = 'issued';
CREATE INDEX grant_notices_issued_day ON grant_notices (final_on, id) WHERE status = 'issued';
