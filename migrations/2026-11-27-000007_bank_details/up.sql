-- Bank details of a recipient organisation (issue 13): its IBAN and the account holder, set together or not at all.
-- The service validates the IBAN (checksum, the country's length and format) with the iban_validate crate and stores
-- its electronic format (upper case, no spaces); the checks here are the backstop for its shape.
ALTER TABLE organisations
    ADD COLUMN iban text CONSTRAINT organisations_iban_shape CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$'),
    ADD COLUMN account_holder text CONSTRAINT organisations_account_holder_text
        CHECK (char_length(account_holder) BETWEEN 1 AND 200 AND account_holder !~ '[\x01-\x1F\x7F-\x9F]'),
    -- The bank details' own version (their ETag) and time: a change of them must not change the organisation's
    -- version, which every role reads, nor tell anyone who may not see them that they changed.
    ADD COLUMN bank_account_version bigint NOT NULL DEFAULT 0
        CONSTRAINT organisations_bank_account_version_not_negative CHECK (bank_account_version >= 0),
    ADD COLUMN bank_account_updated_at timestamptz,
    ADD CONSTRAINT organisations_bank_account_complete CHECK ((iban IS NULL) = (account_holder IS NULL));
