//! What the webhooks API answers: a webhook (credentials redacted), its
//! deliveries and their attempts, a preview and a test send.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::delivery::DeliveryStatus;
use crate::domain::time::to_rfc3339;
use crate::domain::webhook::{BatchMode, Conditions, EventName, WebhookAuth, WebhookMethod};
use crate::storage::deliveries::{Attempt, Delivery};
use crate::storage::webhooks::Webhook;

/// A webhook. Auth credentials are shown redacted; the signing secret is
/// shown, since receivers need it to verify signatures.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub method: WebhookMethod,
    pub events: Vec<EventName>,
    pub conditions: Conditions,
    pub auth: WebhookAuth,
    /// `whsec_...`: verify `webhook-signature` with it (Standard Webhooks).
    pub signing_secret: String,
    /// Also send the secret itself as `X-Webhook-Secret`.
    pub send_secret_header: bool,
    /// Also send `X-Hmac-Signature`: hex HMAC-SHA256 of the body.
    pub send_hmac_header: bool,
    pub timeout_seconds: u64,
    /// Seconds before each retry; the first attempt is immediate.
    pub retry_schedule_seconds: Vec<u64>,
    /// Deliveries of this webhook a worker process sends at once.
    pub max_in_flight: u32,
    /// event-only, small, full, template, or an uploaded plugin's id.
    pub payload_format: String,
    pub payload_config: Value,
    pub lightweight_logs: bool,
    /// none, same_event, same_event_type or any_event.
    pub batch_mode: BatchMode,
    pub batch_wait_seconds: u64,
    pub max_items_per_batch: u32,
    pub active: bool,
    /// Why Switchyard deactivated the webhook, if it did.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        let settings = webhook.settings;
        Self {
            id: webhook.id,
            name: settings.name,
            url: settings.url,
            method: settings.method,
            events: settings.events,
            conditions: settings.conditions,
            auth: settings.auth.redacted(),
            signing_secret: webhook.signing_secret,
            send_secret_header: settings.send_secret_header,
            send_hmac_header: settings.send_hmac_header,
            timeout_seconds: settings.timeout.as_secs(),
            retry_schedule_seconds: settings.retry_schedule,
            max_in_flight: settings.max_in_flight,
            payload_format: settings.payload_format.as_str().to_owned(),
            payload_config: settings.payload_config,
            lightweight_logs: settings.lightweight_logs,
            batch_mode: settings.batching.mode,
            batch_wait_seconds: settings.batching.wait.as_secs(),
            max_items_per_batch: settings.batching.max_items,
            active: settings.active,
            disabled_reason: webhook.disabled_reason,
            failing_since: webhook.failing_since.map(to_rfc3339),
            created_at: to_rfc3339(webhook.created_at),
            updated_at: to_rfc3339(webhook.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookList {
    pub data: Vec<WebhookView>,
}

/// A rendered payload.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PreviewView {
    pub content_type: String,
    pub headers: BTreeMap<String, String>,
    /// Exactly the bytes that would be sent.
    pub body: String,
    /// The event that was rendered.
    pub event: Value,
}

/// What a test send got back.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestSendView {
    /// The `webhook-id` the test was sent with: the id of its delivery
    /// (event `test`) in the webhook's log.
    pub message_id: String,
    /// True when the receiver answered 2xx.
    pub success: bool,
    pub status: Option<u16>,
    /// The start of the response body (at most 1 KiB).
    pub body_excerpt: Option<String>,
    pub duration_ms: f64,
    pub error: Option<String>,
}

/// A delivery: one message to one webhook.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeliveryView {
    /// The message id: the `webhook-id` header of every attempt.
    pub id: String,
    pub webhook_id: String,
    /// The event name, `batch` for a batch of messages, or `test` for a
    /// test send (a sample `lead.stage_changed`).
    pub event: String,
    /// Null for a batch.
    pub event_id: Option<String>,
    pub lead_profile_uid: Option<String>,
    /// pending, succeeded, failed, or batched (sent in the batch
    /// `batch_id`, whose outcome it takes).
    pub status: DeliveryStatus,
    pub batch_id: Option<String>,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            event: delivery.event_type,
            event_id: delivery.event_id,
            lead_profile_uid: delivery.lead_id,
            status: delivery.status,
            batch_id: delivery.batch_id,
            attempt_count: delivery.attempt_count,
            next_attempt_at: delivery.next_attempt_at.map(to_rfc3339),
            last_response_status: delivery.last_response_status,
            last_error: delivery.last_error,
            created_at: to_rfc3339(delivery.created_at),
            updated_at: to_rfc3339(delivery.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeliveryPage {
    pub data: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One attempt, as logged.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AttemptView {
    pub id: String,
    pub attempted_at: String,
    /// scheduled (first send or retry) or resend.
    pub triggered_by: String,
    pub url: Option<String>,
    pub method: Option<String>,
    /// Secrets and credentials redacted.
    pub request_headers: Option<Value>,
    pub request_body: Option<String>,
    pub response_status: Option<i64>,
    pub response_headers: Option<Value>,
    /// At most 64 KiB.
    pub response_body: Option<String>,
    pub duration_ms: f64,
    pub error: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(attempt: Attempt) -> Self {
        let json = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        let log = attempt.log;
        Self {
            id: attempt.id,
            attempted_at: to_rfc3339(attempt.attempted_at),
            triggered_by: attempt.triggered_by,
            url: log.url,
            method: log.method,
            request_headers: json(log.request_headers),
            request_body: log.request_body,
            response_status: log.response_status,
            response_headers: json(log.response_headers),
            response_body: log.response_body,
            duration_ms: log.duration_us as f64 / 1_000.0,
            error: log.error,
        }
    }
}

/// A delivery with its payload and every attempt, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub payload_content_type: Option<String>,
    /// The rendered payload (null until the first attempt, and for
    /// lightweight-log webhooks).
    pub payload_body: Option<String>,
    /// For a batch: the messages it carries.
    pub messages: Vec<String>,
    pub attempts: Vec<AttemptView>,
}
