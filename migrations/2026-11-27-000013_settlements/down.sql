DROP TABLE settlements;
ALTER TABLE funding_lines DROP COLUMN plan_line_tolerance_bp;
