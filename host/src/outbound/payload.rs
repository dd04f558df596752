//! Payloads: the event a payload builder plugin receives (the envelope of
//! DESIGN.md plus the lead), reading the plugin's answer into a body, and a
//! sample event for previews and test sends.
//!
//! The event document:
//! `{"id", "event", "webhook_id", "object_id", "timestamp", "actor", "lead",
//! "previous_funnel_stage", "funnel_history"?}`, where `id` is the message
//! id (also the `webhook-id` header, the receiver's idempotency key).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::actor::Actor;
use crate::domain::time::to_rfc3339;
use crate::domain::webhook::RESERVED_HEADERS;
use crate::plugins::error::PluginError;
use crate::storage::lead_events::StoredEvent;
use crate::storage::leads::{FunnelEventView, LeadStageView};

/// The envelope every payload carries.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Envelope {
    pub id: String,
    pub event: String,
    pub webhook_id: String,
    pub object_id: String,
    pub timestamp: String,
    pub actor: Actor,
}

impl Envelope {
    pub(crate) fn for_stored(message_id: &str, webhook_id: &str, event: &StoredEvent) -> Self {
        Self {
            id: message_id.to_owned(),
            event: event.event_type.clone(),
            webhook_id: webhook_id.to_owned(),
            object_id: event.lead_id.clone(),
            timestamp: to_rfc3339(event.occurred_at),
            actor: Actor {
                kind: event.actor_kind,
                id: event.actor_id.clone(),
                name: event.actor_name.clone(),
            },
        }
    }

    /// The envelope as query parameters, for `GET` webhooks (which carry
    /// no body).
    pub(crate) fn query_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("id", self.id.clone()),
            ("event", self.event.clone()),
            ("webhook_id", self.webhook_id.clone()),
            ("object_id", self.object_id.clone()),
            ("timestamp", self.timestamp.clone()),
            ("actor_type", self.actor.kind.as_str().to_owned()),
            ("actor_id", self.actor.id.clone()),
            ("actor_name", self.actor.name.clone()),
        ]
    }
}

/// The event document for a payload builder.
pub(crate) fn event_document(
    envelope: &Envelope,
    lead: Value,
    previous_funnel_stage: Option<LeadStageView>,
    funnel_history: Option<Vec<FunnelEventView>>,
) -> Value {
    let mut document = json!({
        "id": envelope.id,
        "event": envelope.event,
        "webhook_id": envelope.webhook_id,
        "object_id": envelope.object_id,
        "timestamp": envelope.timestamp,
        "actor": envelope.actor,
        "lead": lead,
        "previous_funnel_stage": previous_funnel_stage,
    });
    if let Some(history) = funnel_history {
        document["funnel_history"] = json!(history);
    }
    document
}

/// What a stored event says beyond the envelope: the lead snapshot and
/// the stage ids.
#[derive(Debug, Default)]
pub(crate) struct EventData {
    pub lead: Value,
    pub previous_funnel_stage_id: Option<String>,
}

impl EventData {
    /// Only the stage the lead left, without building the lead snapshot.
    pub(crate) fn previous_stage_id(data: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct StageIds {
            previous_funnel_stage_id: Option<String>,
        }
        serde_json::from_str::<StageIds>(data)
            .ok()?
            .previous_funnel_stage_id
    }

    pub(crate) fn parse(data: &str) -> Self {
        let mut value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        Self {
            lead: value
                .get_mut("lead")
                .map(Value::take)
                .unwrap_or(Value::Null),
            previous_funnel_stage_id: value
                .get("previous_funnel_stage_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// The event of the sample that previews and test sends render.
pub(crate) const SAMPLE_EVENT: &str = "lead.stage_changed";

/// A sample lead event for previews and test sends: a `lead.stage_changed`
/// of a made-up lead, into the account's first stage when it has one.
pub(crate) fn sample_event(
    message_id: &str,
    webhook_id: &str,
    actor: &Actor,
    stages: &[LeadStageView],
    now: i64,
) -> (Envelope, Value) {
    let stage = stages.first();
    let previous = stages.get(1).cloned();
    let envelope = Envelope {
        id: message_id.to_owned(),
        event: SAMPLE_EVENT.into(),
        webhook_id: webhook_id.to_owned(),
        object_id: "lead_00000000000000000000000000".into(),
        timestamp: to_rfc3339(now),
        actor: actor.clone(),
    };
    let lead = json!({
        "lead_profile_uid": envelope.object_id,
        "email": "ada.lovelace@example.com",
        "company": "Analytical Engines Ltd",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+44 20 7946 0000",
        "website": "https://example.com",
        "position": "Programmer",
        "twitter": null,
        "linkedin": null,
        "notes": "A sample lead made up by Switchyard.",
        "score": 42,
        "funnel_stage": stage,
        "created_at": to_rfc3339(now),
        "updated_at": to_rfc3339(now),
    });
    let document = event_document(&envelope, lead, previous, Some(Vec::new()));
    (envelope, document)
}

/// A payload ready to send: the body bytes and how to send them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BuiltPayload {
    pub body: String,
    pub content_type: String,
    pub headers: BTreeMap<String, String>,
}

/// Headers a payload builder may not set either: credentials belong to the
/// webhook's auth (and are redacted in logs), and hop-by-hop headers to the
/// connection.
const PLUGIN_FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// Reads a payload builder's `ok` value. A JSON string body is sent as its
/// text; any other JSON value is serialised.
pub(crate) fn payload_from_output(output: Value) -> Result<BuiltPayload, PluginError> {
    let invalid = |message: String| PluginError::InvalidOutput(message);
    let Value::Object(mut fields) = output else {
        return Err(invalid(
            "a payload builder must return an object {\"body\", \"content_type\", \"headers\"}"
                .into(),
        ));
    };
    let body = match fields.remove("body") {
        Some(Value::String(text)) => text,
        Some(Value::Null) | None => {
            return Err(invalid("the payload has no `body`".into()));
        }
        Some(other) => other.to_string(),
    };
    if body.contains('\0') {
        return Err(invalid(
            "the body must not contain NUL (\\u0000) characters".into(),
        ));
    }
    let content_type = match fields.remove("content_type") {
        Some(Value::String(content_type)) if !content_type.trim().is_empty() => content_type,
        _ => return Err(invalid("the payload has no `content_type` string".into())),
    };
    if reqwest::header::HeaderValue::from_str(&content_type).is_err() {
        return Err(invalid(format!(
            "content_type `{content_type}` is not a valid header value"
        )));
    }
    let mut headers = BTreeMap::new();
    match fields.remove("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let Value::String(value) = value else {
                    return Err(invalid(format!("header `{name}` must be a string")));
                };
                let lower = name.to_ascii_lowercase();
                if RESERVED_HEADERS.contains(&lower.as_str())
                    || PLUGIN_FORBIDDEN_HEADERS.contains(&lower.as_str())
                {
                    return Err(invalid(format!(
                        "header `{name}` is set by Switchyard and cannot be set by a payload builder"
                    )));
                }
                if reqwest::header::HeaderName::from_bytes(lower.as_bytes()).is_err()
                    || reqwest::header::HeaderValue::from_str(&value).is_err()
                {
                    return Err(invalid(format!(
                        "header `{name}` is not a valid HTTP header"
                    )));
                }
                headers.insert(lower, value);
            }
        }
        Some(_) => return Err(invalid("`headers` must be an object of strings".into())),
    }
    Ok(BuiltPayload {
        body,
        content_type,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::ActorKind;

    #[test]
    fn string_bodies_are_sent_as_text_and_json_bodies_serialised() {
        let text = payload_from_output(json!({
            "body": "a=1&b=2", "content_type": "application/x-www-form-urlencoded"
        }))
        .unwrap();
        assert_eq!(text.body, "a=1&b=2");
        let json_body = payload_from_output(json!({
            "body": {"a": [1, 2]}, "content_type": "application/json", "headers": {"X-Extra": "1"}
        }))
        .unwrap();
        assert_eq!(json_body.body, r#"{"a":[1,2]}"#);
        assert_eq!(json_body.headers["x-extra"], "1");
    }

    #[test]
    fn bad_outputs_are_named() {
        let cases = [
            (json!([1]), "must return an object"),
            (json!({"content_type": "text/plain"}), "no `body`"),
            (json!({"body": "x"}), "no `content_type`"),
            (
                json!({"body": "x", "content_type": "text/plain", "headers": {"webhook-signature": "forged"}}),
                "set by Switchyard",
            ),
            (
                json!({"body": "x", "content_type": "text/plain", "headers": {"x": 1}}),
                "must be a string",
            ),
        ];
        for (output, expected) in cases {
            let error = payload_from_output(output.clone()).unwrap_err().to_string();
            assert!(error.contains(expected), "{output}: {error}");
        }
    }

    #[test]
    fn get_query_carries_the_envelope() {
        let envelope = Envelope {
            id: "msg_1".into(),
            event: "lead.created".into(),
            webhook_id: "wh_1".into(),
            object_id: "lead_1".into(),
            timestamp: "2026-01-01T00:00:00.000000Z".into(),
            actor: Actor {
                kind: ActorKind::WebhookImport,
                id: "imp_1".into(),
                name: "HubSpot".into(),
            },
        };
        let pairs = envelope.query_pairs();
        assert!(pairs.contains(&("event", "lead.created".into())));
        assert!(pairs.contains(&("actor_type", "webhook_import".into())));
        assert_eq!(pairs.len(), 8);
    }

    #[test]
    fn event_data_reads_the_snapshot() {
        let data = EventData::parse(
            r#"{"previous_funnel_stage_id":"stage_a","funnel_stage_id":"stage_b","lead":{"email":"x@y.z"}}"#,
        );
        assert_eq!(data.previous_funnel_stage_id.as_deref(), Some("stage_a"));
        assert_eq!(data.lead["email"], "x@y.z");
    }
}
