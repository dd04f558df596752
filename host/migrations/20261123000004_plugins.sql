-- Uploaded plugins and the transform attached to a webhook import.
-- Modules are stored once per content (sha256); BYTEA is PostgreSQL's binary
-- type and SQLite stores blobs as they are under any declared type.

CREATE TABLE plugin_modules (
    sha256 TEXT PRIMARY KEY,
    module BYTEA NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE plugins (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES plugin_modules (sha256),
    fuel BIGINT NOT NULL,
    memory_bytes BIGINT NOT NULL,
    time_limit_ms BIGINT NOT NULL,
    output_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX plugins_account_name ON plugins (account_id, name);

-- A plugin id (or `builtin:NAME`) and its JSON config; both NULL without a transform.
ALTER TABLE webhook_imports ADD COLUMN transform_plugin_id TEXT;
ALTER TABLE webhook_imports ADD COLUMN transform_config TEXT;
