//! `small`: the built-in payload builder that sends the envelope and the
//! lead's key fields, enough for most receivers to act without calling back.
//!
//! ```json
//! {"id": "msg_...", "event": "lead.stage_changed", "webhook_id": "wh_...",
//!  "object_id": "lead_...", "timestamp": "...", "actor": {"type": "...", "id": "...", "name": "..."},
//!  "data": {"lead_profile_uid": "lead_...", "email": "ada@example.com", "first_name": "Ada",
//!           "last_name": "Lovelace", "funnel_stage": "Inquiry", "funnel_stage_id": "stage_..."}}
//! ```
//!
//! `funnel_stage` is the stage's title and `funnel_stage_id` its id, both
//! `null` when the lead is in no stage. It takes no config.

use serde::Serialize;
use serde::de::IgnoredAny;
use switchyard_plugin_sdk::{Envelope, Error, LeadEvent, Payload, export_payload_builder};

/// The body; the field order here is the order on the wire.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(flatten)]
    envelope: Envelope,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    lead_profile_uid: &'a str,
    email: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    funnel_stage: Option<&'a str>,
    funnel_stage_id: Option<&'a str>,
}

/// The config is ignored: the host passes `null`, and anything else costs
/// nothing to skip.
pub fn build_payload(_config: IgnoredAny, event: LeadEvent) -> Result<Payload, Error> {
    let lead = &event.lead;
    let stage = lead.funnel_stage.as_ref();
    Payload::json(&Body {
        envelope: Envelope::from(&event),
        data: Data {
            lead_profile_uid: &lead.lead_profile_uid,
            email: lead.email.as_deref(),
            first_name: lead.first_name.as_deref(),
            last_name: lead.last_name.as_deref(),
            funnel_stage: stage.map(|stage| stage.title.as_str()),
            funnel_stage_id: stage.map(|stage| stage.id.as_str()),
        },
    })
}

export_payload_builder!(build_payload);

#[cfg(test)]
mod tests {
    use super::*;

    /// A full event as the host sends it, with fields this format leaves
    /// out and one the plugin does not know.
    const EVENT: &str = r#"{
        "id": "msg_01", "event": "lead.stage_changed", "webhook_id": "wh_01",
        "object_id": "lead_01", "timestamp": "2026-11-23T14:00:00.123456Z",
        "actor": {"type": "webhook_import", "id": "imp_01", "name": "HubSpot"},
        "lead": {
            "lead_profile_uid": "lead_01", "email": "ada@example.com", "company": null,
            "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20", "website": null,
            "position": null, "twitter": null, "linkedin": null, "notes": "n", "score": 7,
            "funnel_stage": {"id": "stage_02", "title": "Enrolled \"now\"", "position": 2},
            "created_at": "2026-11-23T13:59:00.000000Z", "updated_at": "2026-11-23T14:00:00.123456Z"
        },
        "previous_funnel_stage": {"id": "stage_01", "title": "Inquiry", "position": 1},
        "funnel_history": [],
        "added_later": true
    }"#;

    fn build(event: &str) -> Payload {
        build_payload(IgnoredAny, serde_json::from_str(event).unwrap()).expect("a payload")
    }

    fn body(payload: &Payload) -> &str {
        payload.body.as_str().expect("the body is sent as raw text")
    }

    #[test]
    fn sends_the_envelope_and_the_key_fields_in_order() {
        let payload = build(EVENT);
        assert_eq!(
            body(&payload),
            r#"{"id":"msg_01","event":"lead.stage_changed","webhook_id":"wh_01","object_id":"lead_01","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"webhook_import","id":"imp_01","name":"HubSpot"},"data":{"lead_profile_uid":"lead_01","email":"ada@example.com","first_name":"Ada","last_name":"Lovelace","funnel_stage":"Enrolled \"now\"","funnel_stage_id":"stage_02"}}"#
        );
        assert_eq!(payload.content_type, "application/json");
        assert!(payload.headers.is_empty());
    }

    #[test]
    fn a_lead_without_a_stage_or_names_sends_nulls() {
        let event = r#"{
            "id": "msg_02", "event": "lead.created", "webhook_id": "wh_01",
            "object_id": "lead_02", "timestamp": "2026-11-23T14:00:00Z",
            "actor": {"type": "admin_api_key", "id": "key_01", "name": "default"},
            "lead": {"lead_profile_uid": "lead_02", "email": null, "first_name": null,
                     "funnel_stage": null, "score": 0}
        }"#;
        assert!(
            body(&build(event)).ends_with(
                r#""data":{"lead_profile_uid":"lead_02","email":null,"first_name":null,"last_name":null,"funnel_stage":null,"funnel_stage_id":null}}"#
            ),
            "{}",
            body(&build(event))
        );
    }
}
