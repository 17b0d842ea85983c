ALTER TABLE organisations
    DROP CONSTRAINT organisations_bank_account_complete,
    DROP COLUMN bank_account_updated_at,
    DROP COLUMN bank_account_version,
    DROP COLUMN account_holder,
    DROP COLUMN iban;
