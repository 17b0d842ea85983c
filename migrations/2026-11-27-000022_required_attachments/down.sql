ALTER TABLE funding_lines DROP COLUMN required_attachments;
