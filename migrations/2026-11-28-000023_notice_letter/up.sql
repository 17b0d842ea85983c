-- The notice as a letter: its file number (Aktenzeichen), and the history entry that names the document a step
-- produced (the issued letter's attachment and SHA-256: the letter sent is provably the letter kept).
CREATE SEQUENCE grant_file_numbers;

ALTER TABLE grant_notices ADD COLUMN file_number text;
-- One file per grant: every notice of an application (the notice and its amendments) shares the number.
WITH files AS (
    SELECT application_id,
           'VG-' || to_char(min(created_at) AT TIME ZONE 'Europe/Berlin', 'YYYY') || '-'
               || lpad(nextval('grant_file_numbers')::text, 5, '0') AS file_number
    FROM grant_notices GROUP BY application_id
)
UPDATE grant_notices n SET file_number = files.file_number FROM files WHERE files.application_id = n.application_id;
ALTER TABLE grant_notices
    ALTER COLUMN file_number SET DEFAULT
        'VG-' || to_char(now() AT TIME ZONE 'Europe/Berlin', 'YYYY') || '-'
            || lpad(nextval('grant_file_numbers')::text, 5, '0'),
    ALTER COLUMN file_number SET NOT NULL,
    ADD CONSTRAINT grant_notices_file_number CHECK (file_number ~ '^[A-Za-z0-9][A-Za-z0-9 ./_()-]{2,59}$');

ALTER TABLE history
    ADD COLUMN document_id uuid,
    ADD COLUMN document_sha256 text CHECK (document_sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT history_document_whole CHECK ((document_id IS NULL) = (document_sha256 IS NULL));

-- The organisation's postal address, for the address field of letters (all three parts or none).
ALTER TABLE organisations
    ADD COLUMN street text CHECK (char_length(street) BETWEEN 2 AND 100),
    ADD COLUMN postal_code text CHECK (postal_code ~ '^[0-9]{5}$'),
    ADD COLUMN city text CHECK (char_length(city) BETWEEN 2 AND 100),
    ADD CONSTRAINT organisations_address_whole
        CHECK ((street IS NULL) = (postal_code IS NULL) AND (street IS NULL) = (city IS NULL));
