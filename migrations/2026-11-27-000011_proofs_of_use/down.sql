DROP TABLE proofs_of_use;
ALTER TABLE funding_lines DROP COLUMN final_proof_months, DROP COLUMN interim_proof_months;
