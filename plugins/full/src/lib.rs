//! `full`: the built-in payload builder that sends the envelope and
//! everything the host knows about the lead: every field, its stage as an
//! object, the stage it left (for `lead.stage_changed`) and its funnel
//! history.
//!
//! ```json
//! {"id": "msg_...", "event": "...", "webhook_id": "wh_...", "object_id": "lead_...",
//!  "timestamp": "...", "actor": {"type": "...", "id": "...", "name": "..."},
//!  "data": {"lead_profile_uid": "...", "email": "...", "company": null, "first_name": "...",
//!           "last_name": "...", "phone": null, "website": null, "position": null,
//!           "twitter": null, "linkedin": null, "notes": null, "score": 0,
//!           "funnel_stage": {"id": "...", "title": "...", "position": 1},
//!           "created_at": "...", "updated_at": "...",
//!           "previous_funnel_stage": null,
//!           "funnel_history": [{"id": "fev_...", "funnel_stage": {...}, "occurred_at": "...",
//!                               "source": {...}, "backfilled": false, "archived_at": null}]}}
//! ```
//!
//! It takes no config. `funnel_history` is `[]` when the host sent none.
//! The event is read into the SDK's typed `LeadEvent` (the history can be
//! long, and a generic JSON tree would cost more fuel and memory), whose
//! lead, stages and history entries serialise in the order above.

use serde::Serialize;
use serde::de::IgnoredAny;
use switchyard_plugin_sdk::event::{HistoryEntry, Lead, Stage};
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
    #[serde(flatten)]
    lead: &'a Lead,
    previous_funnel_stage: Option<&'a Stage>,
    funnel_history: &'a [HistoryEntry],
}

/// The config is ignored: the host passes `null`, and anything else costs
/// nothing to skip.
pub fn build_payload(_config: IgnoredAny, event: LeadEvent) -> Result<Payload, Error> {
    Payload::json(&Body {
        envelope: Envelope::from(&event),
        data: Data {
            lead: &event.lead,
            previous_funnel_stage: event.previous_funnel_stage.as_ref(),
            funnel_history: event.funnel_history.as_deref().unwrap_or_default(),
        },
    })
}

export_payload_builder!(build_payload);

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#""id": "msg_01", "event": "lead.stage_changed", "webhook_id": "wh_01",
        "object_id": "lead_01", "timestamp": "2026-11-23T14:00:00.123456Z",
        "actor": {"type": "admin_api_key", "id": "key_01", "name": "default"}"#;

    /// Every lead field set, in an order unlike the body's, with one field
    /// the plugin does not know.
    const LEAD: &str = r#""lead": {
        "updated_at": "2026-11-23T14:00:00.123456Z", "created_at": "2026-11-23T13:59:00.000000Z",
        "funnel_stage": {"title": "Enrolled", "id": "stage_02", "position": null},
        "score": 42, "notes": "line 1\nline 2", "linkedin": "in/ada", "twitter": "@ada",
        "position": "CTO", "website": "https://ada.example", "phone": "+44 20 7946 0000",
        "last_name": "Lovelace", "first_name": "Zoë", "company": "Analytical Engines",
        "email": "ada@example.com", "lead_profile_uid": "lead_01", "added_later": [1]
    }"#;

    /// An event document: the envelope, `lead` (a `"lead": {...}` member)
    /// and `rest` (more members, each after a comma).
    fn event(lead: &str, rest: &str) -> String {
        format!("{{{ENVELOPE}, {lead}{rest}}}")
    }

    fn build(event: &str) -> Payload {
        build_payload(IgnoredAny, serde_json::from_str(event).unwrap()).expect("a payload")
    }

    fn body(payload: &Payload) -> &str {
        payload.body.as_str().expect("the body is sent as raw text")
    }

    #[test]
    fn sends_every_field_the_previous_stage_and_the_history_in_order() {
        let event = event(
            LEAD,
            r#",
            "previous_funnel_stage": {"id": "stage_01", "title": "Inquiry", "position": 1},
            "funnel_history": [
                {"id": "fev_01", "funnel_stage": {"id": "stage_01", "title": "Inquiry", "position": 1},
                 "occurred_at": "2026-11-20T09:00:00.000000Z",
                 "source": {"type": "webhook_import", "id": "imp_01", "name": "HubSpot"},
                 "backfilled": true, "archived_at": "2026-11-21T09:00:00.000000Z"},
                {"id": "fev_02", "funnel_stage": null, "occurred_at": "2026-11-23T14:00:00.123456Z",
                 "source": null, "archived_at": null, "added_later": 1}
            ]"#,
        );
        let payload = build(&event);
        assert_eq!(
            body(&payload),
            concat!(
                r#"{"id":"msg_01","event":"lead.stage_changed","webhook_id":"wh_01","object_id":"lead_01","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"admin_api_key","id":"key_01","name":"default"},"#,
                r#""data":{"lead_profile_uid":"lead_01","email":"ada@example.com","company":"Analytical Engines","first_name":"Zoë","last_name":"Lovelace","phone":"+44 20 7946 0000","website":"https://ada.example","position":"CTO","twitter":"@ada","linkedin":"in/ada","notes":"line 1\nline 2","score":42,"#,
                r#""funnel_stage":{"id":"stage_02","title":"Enrolled","position":null},"created_at":"2026-11-23T13:59:00.000000Z","updated_at":"2026-11-23T14:00:00.123456Z","#,
                r#""previous_funnel_stage":{"id":"stage_01","title":"Inquiry","position":1},"#,
                r#""funnel_history":[{"id":"fev_01","funnel_stage":{"id":"stage_01","title":"Inquiry","position":1},"occurred_at":"2026-11-20T09:00:00.000000Z","source":{"type":"webhook_import","id":"imp_01","name":"HubSpot"},"backfilled":true,"archived_at":"2026-11-21T09:00:00.000000Z"},"#,
                r#"{"id":"fev_02","funnel_stage":null,"occurred_at":"2026-11-23T14:00:00.123456Z","source":null,"backfilled":false,"archived_at":null}]}}"#
            )
        );
        assert_eq!(payload.content_type, "application/json");
        assert!(payload.headers.is_empty());
    }

    #[test]
    fn absent_optional_fields_become_null_and_an_empty_history() {
        let event = event(
            r#""lead": {"lead_profile_uid": "lead_01", "email": null,
            "created_at": "2026-11-23T13:59:00Z", "updated_at": "2026-11-23T14:00:00Z"}"#,
            "",
        );
        assert_eq!(
            body(&build(&event)),
            concat!(
                r#"{"id":"msg_01","event":"lead.stage_changed","webhook_id":"wh_01","object_id":"lead_01","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"admin_api_key","id":"key_01","name":"default"},"#,
                r#""data":{"lead_profile_uid":"lead_01","email":null,"company":null,"first_name":null,"last_name":null,"phone":null,"website":null,"position":null,"twitter":null,"linkedin":null,"notes":null,"score":0,"#,
                r#""funnel_stage":null,"created_at":"2026-11-23T13:59:00Z","updated_at":"2026-11-23T14:00:00Z","previous_funnel_stage":null,"funnel_history":[]}}"#
            )
        );
    }

    #[test]
    fn a_null_history_is_sent_as_an_empty_one() {
        let event = event(LEAD, r#", "funnel_history": null"#);
        assert!(
            body(&build(&event)).ends_with(r#""previous_funnel_stage":null,"funnel_history":[]}}"#)
        );
    }
}
