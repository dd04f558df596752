//! Batching: which of a webhook's events go out together in one request
//! (a JSON array), and when a batch is sent.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::format::{BuiltinFormat, PayloadFormat};
use super::method::WebhookMethod;
use crate::domain::InvalidInput;

/// Which events a webhook sends together in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BatchMode {
    /// Every event in its own request.
    None,
    /// Occurrences of the same event name (`lead.created` with `lead.created`).
    SameEvent,
    /// Events about the same kind of object (every `lead.*`).
    SameEventType,
    /// Any events.
    AnyEvent,
}

impl BatchMode {
    pub(crate) const ALL: [BatchMode; 4] = [
        BatchMode::None,
        BatchMode::SameEvent,
        BatchMode::SameEventType,
        BatchMode::AnyEvent,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BatchMode::None => "none",
            BatchMode::SameEvent => "same_event",
            BatchMode::SameEventType => "same_event_type",
            BatchMode::AnyEvent => "any_event",
        }
    }

    pub(crate) fn parse(name: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "batch_mode must be one of {}, not `{name}`",
                    Self::ALL.map(Self::as_str).join(", ")
                ))
            })
    }

    /// The group an event joins: events with the same key go out together.
    /// `None` when the webhook does not batch.
    pub(crate) fn key(self, event_name: &str) -> Option<String> {
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
/// when its first event has waited `wait`. Its defaults are part of
/// [`super::WebhookSettings::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Batching {
    pub mode: BatchMode,
    pub wait: Duration,
    pub max_items: u32,
}

pub(super) const MAX_BATCH_WAIT_SECONDS: u64 = 15 * 60;
pub(super) const MAX_BATCH_ITEMS: u32 = 1_000;

impl Batching {
    /// Reads the stored columns back: the mode's name, the wait in
    /// milliseconds, the most items.
    pub(crate) fn from_columns(
        mode: &str,
        wait_ms: i64,
        max_items: i64,
    ) -> Result<Self, InvalidInput> {
        Ok(Batching {
            mode: BatchMode::parse(mode)?,
            wait: Duration::from_millis(u64::try_from(wait_ms).map_err(|_| {
                InvalidInput(format!("batch wait must not be negative, not {wait_ms} ms"))
            })?),
            max_items: u32::try_from(max_items).map_err(|_| {
                InvalidInput(format!(
                    "batch max items must be between 0 and {}, not {max_items}",
                    u32::MAX
                ))
            })?,
        })
    }

    /// Whether these limits hold, and whether batching can work with the
    /// webhook's method and payload format.
    pub(crate) fn check(
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
        match format {
            PayloadFormat::Builtin(BuiltinFormat::Full) => Err(InvalidInput(
                "batching is not available with the full payload format: each payload carries the lead's whole funnel history, too much to send many at once; use small or event-only".into(),
            )),
            PayloadFormat::Builtin(BuiltinFormat::Template)
                if config.get("format").and_then(serde_json::Value::as_str) == Some("form") =>
            {
                Err(InvalidInput(
                    "batching needs JSON payloads (a batch is a JSON array); this template sends a form".into(),
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::WebhookSettings;

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
            ..WebhookSettings::default().batching
        };
        let small = PayloadFormat::Builtin(BuiltinFormat::Small);
        let full = PayloadFormat::Builtin(BuiltinFormat::Full);
        let null = serde_json::Value::Null;
        assert!(batching.check(WebhookMethod::Post, &small, &null).is_ok());
        let refused = batching
            .check(WebhookMethod::Post, &full, &null)
            .unwrap_err();
        assert!(refused.0.contains("full payload format"), "{refused}");
        let put = batching
            .check(WebhookMethod::Put, &small, &null)
            .unwrap_err();
        assert!(put.0.contains("method POST"), "{put}");
        let form = batching
            .check(
                WebhookMethod::Post,
                &PayloadFormat::Builtin(BuiltinFormat::Template),
                &serde_json::json!({"format": "form"}),
            )
            .unwrap_err();
        assert!(form.0.contains("form"), "{form}");
        let too_long = Batching {
            wait: Duration::from_secs(901),
            ..batching
        };
        assert_eq!(
            too_long
                .check(WebhookMethod::Post, &small, &null)
                .unwrap_err()
                .0,
            "batch_wait_seconds must be between 1 and 900"
        );
        let too_many = Batching {
            max_items: 1_001,
            ..batching
        };
        assert_eq!(
            too_many
                .check(WebhookMethod::Post, &small, &null)
                .unwrap_err()
                .0,
            "max_items_per_batch must be between 1 and 1000"
        );
        // Not batching: anything goes.
        let none = WebhookSettings::default().batching;
        assert!(none.check(WebhookMethod::Get, &full, &null).is_ok());
    }

    #[test]
    fn stored_columns_parse_back_or_say_what_is_wrong() {
        assert_eq!(
            Batching::from_columns("same_event", 10_000, 100),
            Ok(Batching {
                mode: BatchMode::SameEvent,
                wait: Duration::from_secs(10),
                max_items: 100,
            })
        );
        assert_eq!(
            Batching::from_columns("sometimes", 10_000, 100)
                .unwrap_err()
                .0,
            "batch_mode must be one of none, same_event, same_event_type, any_event, not `sometimes`"
        );
        assert!(
            Batching::from_columns("none", -1, 100)
                .unwrap_err()
                .0
                .contains("must not be negative")
        );
        assert!(
            Batching::from_columns("none", 1, -5)
                .unwrap_err()
                .0
                .contains("not -5")
        );
    }
}
