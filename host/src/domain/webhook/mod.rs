//! The webhook model: everything an admin sets on an outbound webhook,
//! each part checked once, and the one set of defaults.
//!
//! - `method`: [`WebhookMethod`].
//! - `auth`: [`WebhookAuth`] (none, Basic, bearer, headers), the headers
//!   Switchyard reserves, redaction.
//! - `events`: [`EventName`], [`Conditions`] on the funnel stage, and the
//!   [`Subscription`] the outbox matches an event against.
//! - `timing`: the timeout, the retry schedule's limits, and the cap on
//!   deliveries in flight.
//! - `format`: [`PayloadFormat`], a [`BuiltinFormat`] or an uploaded plugin.
//! - `batching`: [`BatchMode`] and [`Batching`], and when batching cannot
//!   work (a method other than POST, the full format, a form template).
//!
//! [`WebhookSettings`] gathers them; `storage::webhooks` stores it, the
//! HTTP API and the admin UI edit it, and `outbound` sends by it.

mod auth;
mod batching;
mod events;
mod format;
mod method;
mod timing;

use std::time::Duration;

use serde_json::Value;

pub(crate) use auth::{REDACTED, RESERVED_HEADERS, WebhookAuth};
pub(crate) use batching::{BatchMode, Batching};
pub(crate) use events::{Conditions, EventName, OccurredEvent, Subscription, parse_event_list};
pub(crate) use format::{BuiltinFormat, PayloadFormat};
pub(crate) use method::WebhookMethod;
pub(crate) use timing::{MAX_IN_FLIGHT, check_retry_schedule, parse_max_in_flight, parse_timeout};

/// Everything an admin sets on a webhook, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub method: WebhookMethod,
    pub events: Vec<EventName>,
    pub conditions: Conditions,
    pub auth: WebhookAuth,
    /// Also send the secret itself as `X-Webhook-Secret`.
    pub send_secret_header: bool,
    /// Also send `X-Hmac-Signature`: hex HMAC-SHA256 of the body.
    pub send_hmac_header: bool,
    /// How long to wait for the receiver's answer.
    pub timeout: Duration,
    /// Seconds before each retry; the first attempt is immediate.
    pub retry_schedule: Vec<u64>,
    /// Deliveries of this webhook a worker process sends at once: a
    /// receiver that hangs holds at most this many of the worker's slots.
    pub max_in_flight: u32,
    pub payload_format: PayloadFormat,
    /// The payload builder's config (for `template`: `{"body", "format",
    /// "stage_as_id"}`).
    pub payload_config: Value,
    /// Keep only status, duration and error of each attempt.
    pub lightweight_logs: bool,
    pub batching: Batching,
    pub active: bool,
}

impl Default for WebhookSettings {
    /// The defaults of every setting, in this one place: what a new
    /// webhook gets for each field the admin leaves out. `name`, `url` and
    /// `events` have none (creating a webhook requires them).
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            method: WebhookMethod::Post,
            events: Vec::new(),
            conditions: Conditions::default(),
            auth: WebhookAuth::None,
            send_secret_header: false,
            send_hmac_header: false,
            timeout: Duration::from_secs(30),
            // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
            retry_schedule: vec![5, 300, 1_800, 7_200, 18_000, 36_000, 36_000],
            // A quarter of a worker's 256 slots: a receiver that hangs
            // leaves three quarters to the others, and one webhook alone
            // still drains as fast as the engine sends (at 16, a single
            // webhook's end-to-end rate halved on SQLite and fell to a
            // third on PostgreSQL).
            max_in_flight: 64,
            payload_format: PayloadFormat::Builtin(BuiltinFormat::Small),
            payload_config: Value::Null,
            lightweight_logs: false,
            batching: Batching {
                mode: BatchMode::None,
                wait: Duration::from_secs(10),
                max_items: 100,
            },
            active: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_every_check() {
        let defaults = WebhookSettings::default();
        assert_eq!(
            parse_timeout(defaults.timeout.as_secs()),
            Ok(defaults.timeout)
        );
        assert_eq!(check_retry_schedule(&defaults.retry_schedule), Ok(()));
        assert_eq!(
            parse_max_in_flight(defaults.max_in_flight),
            Ok(defaults.max_in_flight)
        );
        assert_eq!(defaults.auth.validate(), Ok(()));
        assert_eq!(
            defaults.batching.check(
                defaults.method,
                &defaults.payload_format,
                &defaults.payload_config
            ),
            Ok(())
        );
        // Batching with the default limits also passes, on a format that
        // can batch.
        let batching = Batching {
            mode: BatchMode::AnyEvent,
            ..defaults.batching
        };
        assert_eq!(
            batching.check(
                defaults.method,
                &defaults.payload_format,
                &defaults.payload_config
            ),
            Ok(())
        );
    }

    /// The API documents these values (`http::webhooks::WebhookInput`);
    /// a change here must change that text too.
    #[test]
    fn the_defaults_are_the_documented_ones() {
        let defaults = WebhookSettings::default();
        assert_eq!(defaults.method, WebhookMethod::Post);
        assert_eq!(defaults.timeout, Duration::from_secs(30));
        assert_eq!(
            defaults.retry_schedule,
            [5, 300, 1800, 7200, 18000, 36000, 36000]
        );
        assert_eq!(defaults.max_in_flight, 64);
        assert_eq!(defaults.payload_format.as_str(), "small");
        assert_eq!(defaults.batching.mode, BatchMode::None);
        assert_eq!(defaults.batching.wait, Duration::from_secs(10));
        assert_eq!(defaults.batching.max_items, 100);
        assert!(defaults.active);
    }
}
