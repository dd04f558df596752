//! Deliveries: one message to one webhook, and the log of its attempts.
//!
//! - `claims`: claiming due deliveries with a short lease that the holding
//!   worker renews (so a process that dies holding some has them picked up
//!   within seconds), and giving them back.
//! - `batches`: forming a batch of a batching webhook's waiting deliveries,
//!   its members, failing a member alone, and undoing batches when the
//!   batching settings change.
//! - `attempts`: what an attempt sent and got back, and writing attempts
//!   with the delivery's next state (the webhook's run of failures is
//!   `webhook_health`'s; `delivery_results` writes both together).
//! - `admin`: listing and reading deliveries and attempts for the admin,
//!   resending, and releasing deliveries parked while a webhook was
//!   inactive.
//! - `recovery`: counting a webhook's failed deliveries since a time and
//!   queueing them to be sent again, in bounded steps.
//! - `retention`: purging old logs.
//! - `test_sends`: logging a test send as a delivery of its own.
//!
//! A delivery's status is [`DeliveryStatus`].

mod admin;
mod attempts;
mod batches;
mod claims;
mod recovery;
mod retention;
mod test_sends;

pub(super) use admin::DELIVERY_COLUMNS;
pub(crate) use admin::{
    Attempt, Delivery, attempts, delete_for_webhook, get, list_for_webhook, resend, unpark,
};
pub(super) use attempts::write_attempts;
pub(crate) use attempts::{AttemptLog, AttemptOutcome, AttemptResult, RenderedPayload};
pub(crate) use batches::{batch_members, fail_batch_members, form_batch, save_payloads, unbatch};
pub(crate) use claims::{ClaimRequest, DueWebhook, claim_due, release, renew};
pub(crate) use recovery::{count_failed_since, requeue_failed_since};
pub(crate) use retention::purge_before;
pub(crate) use test_sends::record_test_send;

use super::Backend;
use super::StoreResult;
use super::sql::{DbRow, FromDbRow};
use super::write_tx::WriteTx;
pub(crate) use crate::domain::delivery::DeliveryStatus;

/// The event type of a batch delivery.
pub(crate) const BATCH_EVENT: &str = "batch";
/// The event type of a test send's delivery (its payload is a sample
/// `lead.stage_changed` event).
pub(crate) const TEST_EVENT: &str = "test";

/// Most ids one `IN (...)` list binds: well under either engine's limit on
/// parameters per statement.
const IN_LIST_CHUNK: usize = 500;

/// A delivery a worker has claimed.
#[derive(Debug, Clone)]
pub(crate) struct ClaimedDelivery {
    pub id: String,
    pub account_id: String,
    pub webhook_id: String,
    /// `None` for a batch.
    pub event_id: Option<String>,
    pub event_type: String,
    pub attempt_count: i64,
    pub next_trigger: String,
    /// Set for deliveries of a batching webhook, until they join a batch.
    pub batch_key: Option<String>,
    pub payload_body: Option<String>,
    pub payload_content_type: Option<String>,
    /// JSON object.
    pub payload_headers: Option<String>,
    /// The worker holding the claim; results are recorded only while the
    /// delivery is still held by it (empty when read unclaimed).
    pub claimed_by: String,
}

const CLAIM_COLUMNS: &str = "id, account_id, webhook_id, event_id, event_type, attempt_count, \
    next_trigger, batch_key, payload_body, payload_content_type, payload_headers, \
    COALESCE(claimed_by, '') AS claimed_by";

impl ClaimedDelivery {
    pub(crate) fn is_batch(&self) -> bool {
        self.event_type == BATCH_EVENT
    }

    pub(crate) fn is_test(&self) -> bool {
        self.event_type == TEST_EVENT
    }
}

impl FromDbRow for ClaimedDelivery {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        Ok(Self {
            id: row.get("id")?,
            account_id: row.get("account_id")?,
            webhook_id: row.get("webhook_id")?,
            event_id: row.get("event_id")?,
            event_type: row.get("event_type")?,
            attempt_count: row.get("attempt_count")?,
            next_trigger: row.get("next_trigger")?,
            batch_key: row.get("batch_key")?,
            payload_body: row.get("payload_body")?,
            payload_content_type: row.get("payload_content_type")?,
            payload_headers: row.get("payload_headers")?,
            claimed_by: row.get("claimed_by")?,
        })
    }
}

/// The clause with which claims skip the rows other workers hold
/// (PostgreSQL); SQLite's single writer serialises claims.
fn skip_locked(tx: &WriteTx<'_>) -> &'static str {
    match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}
