ALTER TABLE recovery_claims
    DROP CONSTRAINT recovery_claims_something_owed,
    DROP COLUMN late_use_interest_cents,
    ADD CONSTRAINT recovery_claims_principal_cents_check CHECK (principal_cents > 0);
ALTER TABLE settlements DROP COLUMN late_use, DROP COLUMN late_use_interest_cents;
