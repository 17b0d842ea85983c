ALTER TABLE organisations DROP COLUMN street, DROP COLUMN postal_code, DROP COLUMN city;
ALTER TABLE history DROP COLUMN document_sha256, DROP COLUMN document_id;
ALTER TABLE grant_notices DROP COLUMN file_number;
DROP SEQUENCE grant_file_numbers;
