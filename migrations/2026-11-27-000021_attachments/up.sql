-- Anlagen: documents attached to a resource. The content is in the object store (the local file system or S3);
-- this table holds what describes it: owner, category, file name, media type (checked against the magic bytes),
-- size, SHA-256 (computed while streaming), storage key, scan state, uploader and retention.
CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    owner_kind text NOT NULL
        CHECK (owner_kind IN ('application', 'grant_notice', 'payment_request', 'proof_of_use', 'recovery_claim')),
    owner_id uuid NOT NULL,
    -- The owner's organisation (the recipient or applicant): whose files these are.
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    category text NOT NULL CHECK (category ~ '^[a-z_]{3,40}$'),
    receipt_index integer CHECK (receipt_index BETWEEN 0 AND 9999),
    file_name text NOT NULL CHECK (char_length(file_name) BETWEEN 1 AND 255),
    media_type text NOT NULL CHECK (char_length(media_type) <= 100),
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key text NOT NULL UNIQUE,
    scan_state text NOT NULL CHECK (scan_state IN ('not_scanned', 'pending', 'clean', 'infected')),
    -- An infected file's content is deleted; its record stays.
    content_deleted boolean NOT NULL DEFAULT false,
    -- Only the service unit and the ministry see it.
    internal boolean NOT NULL DEFAULT false,
    uploaded_by text NOT NULL,
    uploader_role text NOT NULL,
    retain_until date,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id, id);
