-- § 49a Abs. 4 HVwVfG: interest on funds paid out and not used within the payout window, from the payout to the use
-- (core::late_use). The settlement computes it from the paid payment requests and the receipts of the accepted proofs
-- of use; a recovery claim charges it, alone where nothing was overpaid.
ALTER TABLE settlements
    ADD COLUMN late_use jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN late_use_interest_cents bigint NOT NULL DEFAULT 0 CHECK (late_use_interest_cents >= 0);
ALTER TABLE recovery_claims
    ADD COLUMN late_use_interest_cents bigint NOT NULL DEFAULT 0 CHECK (late_use_interest_cents >= 0),
    DROP CONSTRAINT recovery_claims_principal_cents_check,
    ADD CONSTRAINT recovery_claims_something_owed
        CHECK (principal_cents >= 0 AND (principal_cents > 0 OR late_use_interest_cents > 0));
