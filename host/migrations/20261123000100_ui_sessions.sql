-- Sessions of the admin web UI. The browser holds the session secret in an
-- HttpOnly cookie; only its SHA-256 digest is stored, so a copy of the
-- database cannot be used to sign in. Rows go with their API key (revoking
-- the key ends its sessions) and are removed at sign-out or once expired.
CREATE TABLE ui_sessions (
    token_digest TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    api_key_id TEXT NOT NULL REFERENCES admin_api_keys (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
