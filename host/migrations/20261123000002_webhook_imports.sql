-- Inbound webhook imports, their stage-name mappings, and the outbox of lead
-- events (written in the same transaction as the change they describe).

CREATE TABLE webhook_imports (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_digest TEXT NOT NULL UNIQUE,
    active BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_imports_account ON webhook_imports (account_id, id);

-- external_key is external_name normalised (case, spaces, `_`, `-`).
CREATE TABLE webhook_import_mappings (
    import_id TEXT NOT NULL REFERENCES webhook_imports (id) ON DELETE CASCADE,
    external_key TEXT NOT NULL,
    external_name TEXT NOT NULL,
    funnel_stage_id TEXT NOT NULL REFERENCES funnel_stages (id),
    list_order BIGINT NOT NULL,
    PRIMARY KEY (import_id, external_key)
);
CREATE INDEX webhook_import_mappings_stage ON webhook_import_mappings (funnel_stage_id);

CREATE TABLE lead_events (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    lead_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    data TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX lead_events_account ON lead_events (account_id, id);
CREATE INDEX lead_events_lead ON lead_events (lead_id, id);
