//! A webhook's settings as the admin API accepts them, checked once: the
//! method, auth, timeout, retry schedule, payload format and batching-free
//! options of DESIGN.md "Outbound webhooks". Stored columns are read back
//! through the same types.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::InvalidInput;

/// The methods a webhook can be sent with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum WebhookMethod {
    #[default]
    Post,
    Put,
    Patch,
    Delete,
    /// Carries no body: the envelope's fields go in the query string.
    Get,
}

impl WebhookMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookMethod::Post => "POST",
            WebhookMethod::Put => "PUT",
            WebhookMethod::Patch => "PATCH",
            WebhookMethod::Delete => "DELETE",
            WebhookMethod::Get => "GET",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Post, Self::Put, Self::Patch, Self::Delete, Self::Get]
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(stored))
    }
}

/// How Switchyard authenticates to the receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WebhookAuth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer {
        token: String,
    },
    /// Headers sent as they are, e.g. `{"X-Api-Key": "..."}`.
    Headers {
        headers: BTreeMap<String, String>,
    },
}

/// What a redacted credential reads as in API answers and delivery logs.
pub const REDACTED: &str = "[redacted]";

impl WebhookAuth {
    /// The headers this auth adds to every request.
    pub fn headers(&self) -> Vec<(String, String)> {
        use base64::Engine;
        match self {
            WebhookAuth::None => Vec::new(),
            WebhookAuth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                vec![("authorization".into(), format!("Basic {encoded}"))]
            }
            WebhookAuth::Bearer { token } => {
                vec![("authorization".into(), format!("Bearer {token}"))]
            }
            WebhookAuth::Headers { headers } => headers
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
                .collect(),
        }
    }

    /// The same auth with its secrets replaced, for API answers.
    pub fn redacted(&self) -> WebhookAuth {
        match self {
            WebhookAuth::None => WebhookAuth::None,
            WebhookAuth::Basic { username, .. } => WebhookAuth::Basic {
                username: username.clone(),
                password: REDACTED.into(),
            },
            WebhookAuth::Bearer { .. } => WebhookAuth::Bearer {
                token: REDACTED.into(),
            },
            WebhookAuth::Headers { headers } => WebhookAuth::Headers {
                headers: headers
                    .keys()
                    .map(|name| (name.clone(), REDACTED.into()))
                    .collect(),
            },
        }
    }

    pub fn validate(&self) -> Result<(), InvalidInput> {
        let header_safe = |field: &str, value: &str| {
            if value.chars().any(|c| c.is_control()) {
                Err(InvalidInput(format!(
                    "auth {field} must not contain control characters"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            WebhookAuth::None => Ok(()),
            WebhookAuth::Basic { username, password } => {
                if username.contains(':') {
                    return Err(InvalidInput(
                        "auth username must not contain `:` (HTTP Basic uses it as the separator)"
                            .into(),
                    ));
                }
                header_safe("username", username)?;
                header_safe("password", password)
            }
            WebhookAuth::Bearer { token } => {
                if token.is_empty() {
                    return Err(InvalidInput("auth token must not be empty".into()));
                }
                header_safe("token", token)
            }
            WebhookAuth::Headers { headers } => {
                for (name, value) in headers {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(InvalidInput(format!(
                            "auth header name `{name}` is not a valid HTTP header name"
                        )));
                    }
                    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                        return Err(InvalidInput(format!(
                            "auth header `{name}` is set by Switchyard and cannot be overridden"
                        )));
                    }
                    header_safe(&format!("header `{name}`"), value)?;
                }
                Ok(())
            }
        }
    }

    /// Header names whose values are secrets, to redact in delivery logs.
    pub fn secret_header_names(&self) -> Vec<String> {
        match self {
            WebhookAuth::None => Vec::new(),
            WebhookAuth::Basic { .. } | WebhookAuth::Bearer { .. } => vec!["authorization".into()],
            WebhookAuth::Headers { headers } => headers
                .keys()
                .map(|name| name.to_ascii_lowercase())
                .collect(),
        }
    }
}

/// Headers Switchyard sets itself.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-webhook-secret",
    "x-hmac-signature",
];

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_TIMEOUT_SECONDS: u64 = 60;

/// Seconds to wait before each retry after the first attempt (which is
/// made at once): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
const MAX_RETRIES: usize = 20;
const MAX_RETRY_DELAY_SECONDS: u64 = 7 * 24 * 3_600;
/// Bounds on a receiver's `Retry-After`: not sooner than a second, not
/// later than a day.
const RETRY_AFTER_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(24 * 3_600));

pub fn parse_timeout(seconds: u64) -> Result<Duration, InvalidInput> {
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(InvalidInput(format!(
            "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}"
        )));
    }
    Ok(Duration::from_secs(seconds))
}

pub fn check_retry_schedule(schedule: &[u64]) -> Result<(), InvalidInput> {
    if schedule.len() > MAX_RETRIES {
        return Err(InvalidInput(format!(
            "retry_schedule_seconds may list at most {MAX_RETRIES} retries"
        )));
    }
    if schedule
        .iter()
        .any(|&delay| delay > MAX_RETRY_DELAY_SECONDS)
    {
        return Err(InvalidInput(format!(
            "each delay in retry_schedule_seconds must be at most {MAX_RETRY_DELAY_SECONDS} seconds (7 days)"
        )));
    }
    Ok(())
}

/// How long to wait before retry number `retry` (1 = the first retry), or
/// `None` when the schedule is used up. The schedule's delay gets ±20%
/// jitter so that receivers coming back up are not hit by every retry at
/// once; a `Retry-After` from the receiver replaces it, within bounds.
pub fn retry_delay(
    schedule: &[u64],
    retry: usize,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let scheduled = *schedule.get(retry.checked_sub(1)?)?;
    if let Some(asked) = retry_after {
        return Some(asked.clamp(RETRY_AFTER_BOUNDS.0, RETRY_AFTER_BOUNDS.1));
    }
    let jitter = rand::rng().random_range(0.8..=1.2);
    Some(Duration::from_secs_f64(scheduled as f64 * jitter))
}

/// Which events a webhook sends together in one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    /// Every event in its own request.
    #[default]
    None,
    /// Occurrences of the same event name (`lead.created` with `lead.created`).
    SameEvent,
    /// Events about the same kind of object (every `lead.*`).
    SameEventType,
    /// Any events.
    AnyEvent,
}

impl BatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchMode::None => "none",
            BatchMode::SameEvent => "same_event",
            BatchMode::SameEventType => "same_event_type",
            BatchMode::AnyEvent => "any_event",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::None,
            Self::SameEvent,
            Self::SameEventType,
            Self::AnyEvent,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == stored)
    }

    /// The group an event joins: events with the same key go out together.
    /// `None` when the webhook does not batch.
    pub fn key(self, event_name: &str) -> Option<String> {
        match self {
            BatchMode::None => None,
            BatchMode::SameEvent => Some(event_name.to_owned()),
            BatchMode::SameEventType => Some(
                event_name
                    .split_once('.')
                    .map_or(event_name, |(object, _)| object)
                    .to_owned(),
            ),
            BatchMode::AnyEvent => Some("*".to_owned()),
        }
    }
}

/// How a webhook batches: a batch goes out when it holds `max_items` or
/// when its first event has waited `wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    pub mode: BatchMode,
    pub wait: Duration,
    pub max_items: u32,
}

impl Default for Batching {
    fn default() -> Self {
        Self {
            mode: BatchMode::None,
            wait: Duration::from_secs(10),
            max_items: 100,
        }
    }
}

pub const MAX_BATCH_WAIT_SECONDS: u64 = 15 * 60;
pub const MAX_BATCH_ITEMS: u32 = 1_000;

impl Batching {
    pub fn check(
        self,
        method: WebhookMethod,
        format: &PayloadFormat,
        config: &serde_json::Value,
    ) -> Result<(), InvalidInput> {
        if !(1..=MAX_BATCH_WAIT_SECONDS).contains(&self.wait.as_secs()) {
            return Err(InvalidInput(format!(
                "batch_wait_seconds must be between 1 and {MAX_BATCH_WAIT_SECONDS}"
            )));
        }
        if !(1..=MAX_BATCH_ITEMS).contains(&self.max_items) {
            return Err(InvalidInput(format!(
                "max_items_per_batch must be between 1 and {MAX_BATCH_ITEMS}"
            )));
        }
        if self.mode == BatchMode::None {
            return Ok(());
        }
        if method != WebhookMethod::Post {
            return Err(InvalidInput(format!(
                "batching needs method POST (a batch is a JSON array in the body); this webhook uses {}",
                method.as_str()
            )));
        }
        if *format == PayloadFormat::Builtin("full") {
            return Err(InvalidInput(
                "batching is not available with the full payload format: each payload carries the lead's whole funnel history, too much to send many at once; use small or event-only".into(),
            ));
        }
        if *format == PayloadFormat::Builtin("template")
            && config.get("format").and_then(serde_json::Value::as_str) == Some("form")
        {
            return Err(InvalidInput(
                "batching needs JSON payloads (a batch is a JSON array); this template sends a form".into(),
            ));
        }
        Ok(())
    }
}

/// Where a webhook's payload comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadFormat {
    /// One of the built-in payload builders: event-only, small, full, template.
    Builtin(&'static str),
    /// An uploaded `payload-builder` plugin, by id.
    Plugin(String),
}

/// The built-in payload formats, each a plugin in `plugins/`.
pub const BUILTIN_FORMATS: [&str; 4] = ["event-only", "small", "full", "template"];
pub const DEFAULT_FORMAT: &str = "small";

impl PayloadFormat {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if let Some(builtin) = BUILTIN_FORMATS.into_iter().find(|name| *name == raw) {
            return Ok(PayloadFormat::Builtin(builtin));
        }
        if raw.starts_with("plg_") {
            return Ok(PayloadFormat::Plugin(raw.to_owned()));
        }
        Err(InvalidInput(format!(
            "payload_format must be one of {} or the id of an uploaded payload-builder plugin (plg_...)",
            BUILTIN_FORMATS.join(", ")
        )))
    }

    pub fn as_str(&self) -> &str {
        match self {
            PayloadFormat::Builtin(name) => name,
            PayloadFormat::Plugin(id) => id,
        }
    }

    /// The plugin id the registry resolves.
    pub fn plugin_id(&self) -> String {
        match self {
            PayloadFormat::Builtin(name) => format!("builtin:{name}"),
            PayloadFormat::Plugin(id) => id.clone(),
        }
    }

    /// Whether the payload builder gets the lead's funnel history: `full`
    /// shows it, and an uploaded plugin may use anything.
    pub fn needs_history(&self) -> bool {
        matches!(
            self,
            PayloadFormat::Builtin("full") | PayloadFormat::Plugin(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_schedule_with_jitter() {
        let schedule = DEFAULT_RETRY_SCHEDULE;
        assert_eq!(retry_delay(&schedule, 0, None), None);
        for (retry, &seconds) in schedule.iter().enumerate() {
            let delay = retry_delay(&schedule, retry + 1, None).unwrap();
            let expected = seconds as f64;
            assert!(
                delay.as_secs_f64() >= expected * 0.8 - 1e-9
                    && delay.as_secs_f64() <= expected * 1.2 + 1e-9,
                "retry {retry}: {delay:?}"
            );
        }
        assert_eq!(retry_delay(&schedule, schedule.len() + 1, None), None);
    }

    #[test]
    fn retry_after_replaces_the_schedule_within_bounds() {
        let schedule = [300];
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::ZERO)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_delay(&schedule, 1, Some(Duration::from_secs(10 * 24 * 3600))),
            Some(Duration::from_secs(24 * 3600))
        );
        // Retry-After does not extend the number of attempts.
        assert_eq!(
            retry_delay(&schedule, 2, Some(Duration::from_secs(1))),
            None
        );
    }

    #[test]
    fn auth_headers_and_redaction() {
        let basic = WebhookAuth::Basic {
            username: "ada".into(),
            password: "s3cret".into(),
        };
        assert_eq!(
            basic.headers(),
            vec![(
                "authorization".to_owned(),
                "Basic YWRhOnMzY3JldA==".to_owned()
            )]
        );
        assert_eq!(
            basic.redacted(),
            WebhookAuth::Basic {
                username: "ada".into(),
                password: REDACTED.into()
            }
        );
        let headers = WebhookAuth::Headers {
            headers: BTreeMap::from([("X-Api-Key".to_owned(), "k".to_owned())]),
        };
        assert_eq!(
            headers.headers(),
            vec![("x-api-key".to_owned(), "k".to_owned())]
        );
        assert_eq!(headers.secret_header_names(), vec!["x-api-key".to_owned()]);
    }

    #[test]
    fn auth_validation_names_the_problem() {
        let reserved = WebhookAuth::Headers {
            headers: BTreeMap::from([("Webhook-Signature".to_owned(), "x".to_owned())]),
        };
        assert!(
            reserved
                .validate()
                .unwrap_err()
                .0
                .contains("set by Switchyard")
        );
        let bad_name = WebhookAuth::Headers {
            headers: BTreeMap::from([("bad header".to_owned(), "x".to_owned())]),
        };
        assert!(
            bad_name
                .validate()
                .unwrap_err()
                .0
                .contains("not a valid HTTP header name")
        );
        let newline = WebhookAuth::Bearer {
            token: "a\nb".into(),
        };
        assert!(
            newline
                .validate()
                .unwrap_err()
                .0
                .contains("control characters")
        );
    }

    #[test]
    fn batch_keys_group_events() {
        assert_eq!(BatchMode::None.key("lead.created"), None);
        assert_eq!(
            BatchMode::SameEvent.key("lead.created").as_deref(),
            Some("lead.created")
        );
        assert_eq!(
            BatchMode::SameEventType.key("lead.deleted").as_deref(),
            Some("lead")
        );
        assert_eq!(
            BatchMode::AnyEvent.key("lead.deleted").as_deref(),
            Some("*")
        );
    }

    #[test]
    fn batching_is_refused_where_it_cannot_work() {
        let batching = Batching {
            mode: BatchMode::AnyEvent,
            ..Batching::default()
        };
        let small = PayloadFormat::Builtin("small");
        let null = serde_json::Value::Null;
        assert!(batching.check(WebhookMethod::Post, &small, &null).is_ok());
        let full = batching
            .check(WebhookMethod::Post, &PayloadFormat::Builtin("full"), &null)
            .unwrap_err();
        assert!(full.0.contains("full payload format"), "{full}");
        let put = batching
            .check(WebhookMethod::Put, &small, &null)
            .unwrap_err();
        assert!(put.0.contains("method POST"), "{put}");
        let form = batching
            .check(
                WebhookMethod::Post,
                &PayloadFormat::Builtin("template"),
                &serde_json::json!({"format": "form"}),
            )
            .unwrap_err();
        assert!(form.0.contains("form"), "{form}");
        let too_long = Batching {
            wait: Duration::from_secs(901),
            ..batching
        };
        assert!(too_long.check(WebhookMethod::Post, &small, &null).is_err());
        let too_many = Batching {
            max_items: 1_001,
            ..batching
        };
        assert!(too_many.check(WebhookMethod::Post, &small, &null).is_err());
        // Not batching: anything goes.
        let none = Batching::default();
        assert!(
            none.check(WebhookMethod::Get, &PayloadFormat::Builtin("full"), &null)
                .is_ok()
        );
    }

    #[test]
    fn payload_formats() {
        assert_eq!(
            PayloadFormat::parse("small").unwrap(),
            PayloadFormat::Builtin("small")
        );
        assert_eq!(
            PayloadFormat::parse("plg_01ABC").unwrap().plugin_id(),
            "plg_01ABC".to_owned()
        );
        assert_eq!(PayloadFormat::Builtin("full").plugin_id(), "builtin:full");
        assert!(PayloadFormat::parse("xml").is_err());
        assert!(PayloadFormat::Builtin("full").needs_history());
        assert!(!PayloadFormat::Builtin("small").needs_history());
    }

    #[test]
    fn methods_and_timeouts() {
        assert_eq!(WebhookMethod::parse("get"), Some(WebhookMethod::Get));
        assert_eq!(WebhookMethod::parse("TRACE"), None);
        assert!(parse_timeout(0).is_err());
        assert!(parse_timeout(61).is_err());
        assert_eq!(parse_timeout(60).unwrap(), Duration::from_secs(60));
        assert!(check_retry_schedule(&[0; 21]).is_err());
        assert!(check_retry_schedule(&[8 * 24 * 3600]).is_err());
        assert!(check_retry_schedule(&[]).is_ok());
    }
}
