DROP INDEX grant_notices_line_status;
DROP INDEX grant_notices_line;
