-- Accounts, admin API keys, funnel stages, leads and funnel history.
-- Portable SQL for SQLite and PostgreSQL: TEXT ids (prefixed ULIDs), BIGINT
-- times (microseconds since the Unix epoch) and BIGINT flags (0 or 1).

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE admin_api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- One row once the first start has created the default account, so that two
-- processes starting on an empty database create only one.
CREATE TABLE first_start (
    id BIGINT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- Deleted stages are kept (with deleted_at set and no position) so that the
-- funnel history that reached them still reads correctly.
CREATE TABLE funnel_stages (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    position BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX funnel_stages_live_title ON funnel_stages (account_id, title_key)
    WHERE deleted_at IS NULL;
CREATE INDEX funnel_stages_account_position ON funnel_stages (account_id, position);

CREATE TABLE leads (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    company TEXT,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    website TEXT,
    position TEXT,
    twitter TEXT,
    linkedin TEXT,
    notes TEXT,
    score BIGINT NOT NULL DEFAULT 0,
    funnel_stage_id TEXT REFERENCES funnel_stages (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX leads_account_email ON leads (account_id, email_key);
CREATE INDEX leads_account_id ON leads (account_id, id);
CREATE INDEX leads_funnel_stage ON leads (funnel_stage_id);

-- One event per stage a lead reached. Source says who moved it (the admin
-- API with a key, or a webhook import); archived_at is set, not the row
-- deleted, when the lead later moves back before this stage.
CREATE TABLE funnel_events (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    funnel_stage_id TEXT NOT NULL REFERENCES funnel_stages (id),
    occurred_at BIGINT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_name TEXT NOT NULL,
    backfilled BIGINT NOT NULL DEFAULT 0,
    archived_at BIGINT
);
CREATE INDEX funnel_events_lead ON funnel_events (lead_id, occurred_at, id);
CREATE INDEX funnel_events_stage ON funnel_events (funnel_stage_id);
