//! A webhook's columns: its row read back into a [`Webhook`] (a column
//! that does not parse is reported, not defaulted), and its settings as
//! column values to write.

use std::time::Duration;

use serde_json::Value;
use sqlx::FromRow;

use super::Webhook;
use crate::domain::webhook::{
    Batching, Conditions, EventName, PayloadFormat, WebhookAuth, WebhookMethod, WebhookSettings,
};
use crate::storage::sql::Arg;
use crate::storage::{StoreResult, corrupt_column};

#[derive(Debug, FromRow)]
pub(super) struct WebhookRow {
    id: String,
    account_id: String,
    name: String,
    url: String,
    method: String,
    events: String,
    conditions: String,
    auth: String,
    signing_secret: String,
    send_secret_header: i64,
    send_hmac_header: i64,
    timeout_ms: i64,
    retry_schedule: String,
    max_in_flight: i64,
    payload_format: String,
    payload_config: String,
    lightweight_logs: i64,
    batch_mode: String,
    batch_wait_ms: i64,
    batch_max_items: i64,
    active: i64,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

pub(super) const WEBHOOK_COLUMNS: &str = "id, account_id, name, url, method, events, conditions, auth, \
    signing_secret, send_secret_header, send_hmac_header, timeout_ms, retry_schedule, \
    max_in_flight, payload_format, payload_config, lightweight_logs, batch_mode, batch_wait_ms, \
    batch_max_items, active, disabled_reason, failing_since, created_at, updated_at";

impl WebhookRow {
    /// Parses the columns back; one that does not parse is reported (see
    /// [`corrupt_column`]).
    pub(super) fn into_webhook(self) -> StoreResult<Webhook> {
        let row = format!("webhook {}", self.id);
        let corrupt = |column: &str, detail: String| corrupt_column(&row, column, detail);
        let events: Vec<EventName> = serde_json::from_str(&self.events)
            .map_err(|error| corrupt("events", error.to_string()))?;
        let conditions: Conditions = serde_json::from_str(&self.conditions)
            .map_err(|error| corrupt("conditions", error.to_string()))?;
        let auth: WebhookAuth =
            serde_json::from_str(&self.auth).map_err(|error| corrupt("auth", error.to_string()))?;
        let retry_schedule: Vec<u64> = serde_json::from_str(&self.retry_schedule)
            .map_err(|error| corrupt("retry_schedule", error.to_string()))?;
        let payload_config: Value = serde_json::from_str(&self.payload_config)
            .map_err(|error| corrupt("payload_config", error.to_string()))?;
        let method =
            WebhookMethod::parse(&self.method).map_err(|error| corrupt("method", error.0))?;
        let payload_format = PayloadFormat::parse(&self.payload_format)
            .map_err(|error| corrupt("payload_format", error.0))?;
        let batching =
            Batching::from_columns(&self.batch_mode, self.batch_wait_ms, self.batch_max_items)
                .map_err(|error| {
                    corrupt("batch_mode, batch_wait_ms or batch_max_items", error.0)
                })?;
        let max_in_flight = u32::try_from(self.max_in_flight).map_err(|_| {
            corrupt(
                "max_in_flight",
                format!("{} is out of range", self.max_in_flight),
            )
        })?;
        let timeout = u64::try_from(self.timeout_ms)
            .map(Duration::from_millis)
            .map_err(|_| corrupt("timeout_ms", format!("{} is negative", self.timeout_ms)))?;
        Ok(Webhook {
            settings: WebhookSettings {
                name: self.name,
                url: self.url,
                method,
                events,
                conditions,
                auth,
                send_secret_header: self.send_secret_header != 0,
                send_hmac_header: self.send_hmac_header != 0,
                timeout,
                retry_schedule,
                max_in_flight,
                payload_format,
                payload_config,
                lightweight_logs: self.lightweight_logs != 0,
                batching,
                active: self.active != 0,
            },
            id: self.id,
            account_id: self.account_id,
            signing_secret: self.signing_secret,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The settings as column values, in the order of [`SETTINGS_COLUMNS`].
pub(super) fn settings_args(settings: &WebhookSettings) -> Vec<Arg<'static>> {
    let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "null".into());
    vec![
        Arg::from(settings.name.clone()),
        Arg::from(settings.url.clone()),
        Arg::from(settings.method.as_str()),
        Arg::from(json(serde_json::to_string(&settings.events))),
        Arg::from(json(serde_json::to_string(&settings.conditions))),
        Arg::from(json(serde_json::to_string(&settings.auth))),
        Arg::from(i64::from(settings.send_secret_header)),
        Arg::from(i64::from(settings.send_hmac_header)),
        Arg::from(i64::try_from(settings.timeout.as_millis()).unwrap_or(i64::MAX)),
        Arg::from(json(serde_json::to_string(&settings.retry_schedule))),
        Arg::from(i64::from(settings.max_in_flight)),
        Arg::from(settings.payload_format.as_str().to_owned()),
        Arg::from(settings.payload_config.to_string()),
        Arg::from(i64::from(settings.lightweight_logs)),
        Arg::from(settings.batching.mode.as_str()),
        Arg::from(i64::try_from(settings.batching.wait.as_millis()).unwrap_or(i64::MAX)),
        Arg::from(i64::from(settings.batching.max_items)),
        Arg::from(i64::from(settings.active)),
    ]
}

pub(super) const SETTINGS_COLUMNS: [&str; 18] = [
    "name",
    "url",
    "method",
    "events",
    "conditions",
    "auth",
    "send_secret_header",
    "send_hmac_header",
    "timeout_ms",
    "retry_schedule",
    "max_in_flight",
    "payload_format",
    "payload_config",
    "lightweight_logs",
    "batch_mode",
    "batch_wait_ms",
    "batch_max_items",
    "active",
];
