-- Bumped by every change to an account's webhooks, so that processes can
-- cache the account's subscriptions and know when to read them again.
ALTER TABLE accounts ADD COLUMN webhooks_version BIGINT NOT NULL DEFAULT 0;

-- Outbound webhooks: subscriptions, their deliveries (one message to one
-- webhook, written in the same transaction as the lead change that caused
-- it) and every attempt to send one.

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    -- JSON array of event names, e.g. ["lead.saved", "lead.stage_changed"].
    events TEXT NOT NULL,
    -- JSON object of optional conditions on the event.
    conditions TEXT NOT NULL,
    -- JSON: {"type": "none" | "basic" | "bearer" | "headers", ...}.
    auth TEXT NOT NULL,
    signing_secret TEXT NOT NULL,
    send_secret_header BIGINT NOT NULL DEFAULT 0,
    send_hmac_header BIGINT NOT NULL DEFAULT 0,
    timeout_ms BIGINT NOT NULL,
    -- JSON array of seconds to wait before each retry.
    retry_schedule TEXT NOT NULL,
    -- event-only | small | full | template | the id of an uploaded plugin.
    payload_format TEXT NOT NULL,
    payload_config TEXT NOT NULL,
    lightweight_logs BIGINT NOT NULL DEFAULT 0,
    -- none | same_event | same_event_type | any_event
    batch_mode TEXT NOT NULL DEFAULT 'none',
    batch_wait_ms BIGINT NOT NULL DEFAULT 10000,
    batch_max_items BIGINT NOT NULL DEFAULT 100,
    active BIGINT NOT NULL DEFAULT 1,
    -- Why the webhook was deactivated by Switchyard (410 Gone, failing too long).
    disabled_reason TEXT,
    -- Start of the current run of failed attempts; NULL after a success.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account_id, id);
CREATE INDEX webhooks_payload_plugin ON webhooks (payload_format);

-- status: pending (waiting for an attempt), succeeded, failed (gave up),
-- batched (carried by the batch delivery batch_id, whose outcome it takes).
-- A batch is itself a delivery, with event_type 'batch' and no event.
-- next_attempt_at is set while pending; claimed_until is the lease of the
-- worker sending it. The rendered payload is kept so every retry and resend
-- sends the same bytes under the same id.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT,
    event_type TEXT NOT NULL,
    lead_id TEXT,
    status TEXT NOT NULL,
    -- Deliveries of a batching webhook with the same key go out together.
    batch_key TEXT,
    batch_id TEXT,
    attempt_count BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    claimed_until BIGINT,
    payload_body TEXT,
    payload_content_type TEXT,
    payload_headers TEXT,
    last_response_status BIGINT,
    last_error TEXT,
    -- What the next attempt is: scheduled (first send or retry) or resend.
    next_trigger TEXT NOT NULL DEFAULT 'scheduled',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
CREATE INDEX deliveries_updated ON deliveries (updated_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_batch ON deliveries (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX deliveries_batching ON deliveries (webhook_id, batch_key, id)
    WHERE batch_key IS NOT NULL AND status = 'pending';

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    -- scheduled | resend
    triggered_by TEXT NOT NULL,
    url TEXT,
    method TEXT,
    request_headers TEXT,
    request_body TEXT,
    response_status BIGINT,
    response_headers TEXT,
    response_body TEXT,
    duration_us BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempted_at);
