//! `event-only`: the built-in payload builder that sends the event envelope
//! alone, for receivers that only need to know that something happened and
//! fetch the lead themselves.
//!
//! ```json
//! {"id": "msg_...", "event": "lead.updated", "webhook_id": "wh_...", "object_id": "lead_...",
//!  "timestamp": "2026-11-23T14:00:00.123456Z",
//!  "actor": {"type": "admin_api_key", "id": "key_...", "name": "default"}}
//! ```
//!
//! It takes no config. Its input is the SDK's [`Envelope`] rather than the
//! whole `LeadEvent`: the event's `lead` and the other fields it does not
//! name are skipped by serde without being built, which keeps the call's
//! fuel small.

use serde::de::IgnoredAny;
use switchyard_plugin_sdk::{Envelope, Error, Payload, export_payload_builder};

/// The config is ignored: the host passes `null`, and anything else costs
/// nothing to skip. The envelope is written back as it was read, in the
/// documented order.
pub fn build_payload(_config: IgnoredAny, envelope: Envelope) -> Result<Payload, Error> {
    Payload::json(&envelope)
}

export_payload_builder!(build_payload);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// A full event as the host sends it, with a field the plugin does not
    /// know, to show that unknown fields are skipped.
    const EVENT: &str = r#"{
        "id": "msg_01", "event": "lead.stage_changed", "webhook_id": "wh_01",
        "object_id": "lead_01", "timestamp": "2026-11-23T14:00:00.123456Z",
        "actor": {"type": "admin_api_key", "id": "key_01", "name": "default", "added_later": 1},
        "lead": {"lead_profile_uid": "lead_01", "email": "ada@example.com", "score": 3},
        "previous_funnel_stage": null,
        "added_later": {"nested": [1, 2]}
    }"#;

    fn body(payload: &Payload) -> &str {
        payload.body.as_str().expect("the body is sent as raw text")
    }

    #[test]
    fn sends_the_envelope_in_order() {
        let payload =
            build_payload(IgnoredAny, serde_json::from_str(EVENT).unwrap()).expect("a payload");
        assert_eq!(
            body(&payload),
            r#"{"id":"msg_01","event":"lead.stage_changed","webhook_id":"wh_01","object_id":"lead_01","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"admin_api_key","id":"key_01","name":"default"}}"#
        );
        assert_eq!(payload.content_type, "application/json");
        assert!(payload.headers.is_empty());
    }

    #[test]
    fn an_actor_without_a_name_is_sent_with_null() {
        let event = EVENT.replace(r#", "name": "default""#, "");
        let payload = build_payload(IgnoredAny, serde_json::from_str(&event).unwrap()).unwrap();
        assert!(
            body(&payload)
                .ends_with(r#""actor":{"type":"admin_api_key","id":"key_01","name":null}}"#),
            "{}",
            body(&payload)
        );
    }

    #[test]
    fn the_whole_call_document_is_read_with_a_null_config() {
        // The shape the SDK deserialises: `{"config": ..., "input": ...}`.
        #[derive(Deserialize)]
        struct Call {
            config: IgnoredAny,
            input: Envelope,
        }
        let call: Call =
            serde_json::from_str(&format!(r#"{{"config": null, "input": {EVENT}}}"#)).unwrap();
        let payload = build_payload(call.config, call.input).unwrap();
        assert!(body(&payload).starts_with(r#"{"id":"msg_01","#));
    }
}
