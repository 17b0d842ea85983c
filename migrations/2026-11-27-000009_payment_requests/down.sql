DROP TABLE payment_requests;
ALTER TABLE grant_years DROP CONSTRAINT grant_years_paid_within_approved;
ALTER TABLE grant_years DROP CONSTRAINT grant_years_approved_within_committed;
ALTER TABLE grant_years DROP COLUMN approved_cents;
ALTER TABLE grant_years ADD CONSTRAINT grant_years_paid_within_committed CHECK (paid_cents <= committed_cents);
ALTER TABLE funding_lines
    DROP COLUMN payout_window_months,
    DROP COLUMN retention_bp,
    DROP COLUMN third_signoff_above_cents,
    DROP COLUMN payments_require_final;
