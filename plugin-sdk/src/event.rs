//! The event a payload builder receives, as typed Rust: [`LeadEvent`] and
//! the objects inside it, exactly as `ABI.md` (payload-builder section)
//! describes them, plus [`Envelope`], the part of it most payloads repeat.
//!
//! The types are lenient the way the ABI asks readers to be: fields the host
//! adds later are skipped, and a field the ABI allows to be `null` or absent
//! is an `Option` (or takes its default). They also serialise, with their
//! fields in the ABI's order, so a builder can write an actor, a stage or
//! the whole lead back into its body as it came and keep a documented key
//! order. `#[non_exhaustive]` because the host may add fields, which this
//! crate will then add too without breaking a plugin.

use serde::{Deserialize, Serialize};

/// The payload-builder input: what happened to which lead, and the lead as
/// it is after the change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct LeadEvent {
    /// The message id, also the receiver's idempotency key.
    pub id: String,
    /// `lead.created`, `lead.updated`, `lead.deleted` or `lead.stage_changed`.
    pub event: String,
    pub webhook_id: String,
    /// The lead's id.
    pub object_id: String,
    /// When the change happened (RFC 3339).
    pub timestamp: String,
    /// Who made the change.
    pub actor: Actor,
    pub lead: Lead,
    /// The stage the lead left; meaningful only for `lead.stage_changed`.
    pub previous_funnel_stage: Option<Stage>,
    /// Present only when the host was asked for it (the `full` format and
    /// uploaded payload builders); `null` reads as absent, and absent is
    /// left out when written back, as the host does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funnel_history: Option<Vec<HistoryEntry>>,
}

/// Who made a change: `kind` is `admin_api_key` or `webhook_import` (the
/// `type` field on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The lead, every field the host sends.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Lead {
    pub lead_profile_uid: String,
    pub email: Option<String>,
    pub company: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub position: Option<String>,
    pub twitter: Option<String>,
    pub linkedin: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub score: i64,
    /// `None` when the lead is in no stage.
    pub funnel_stage: Option<Stage>,
    /// The host always sends the timestamps (here and in a history entry);
    /// `Option` so that an event without them, such as a hand-written test
    /// input, still reads.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A funnel stage.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Stage {
    pub id: String,
    pub title: String,
    pub position: Option<i64>,
}

/// One move of the lead through the funnel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    pub id: String,
    /// `None` if the stage no longer exists.
    pub funnel_stage: Option<Stage>,
    pub occurred_at: Option<String>,
    /// Who moved the lead, when known.
    pub source: Option<Actor>,
    #[serde(default)]
    pub backfilled: bool,
    pub archived_at: Option<String>,
}

/// The first six fields of a [`LeadEvent`], which most payloads start with.
///
/// It serialises as the top of a body (`#[serde(flatten)]` it into a body
/// struct to add more fields after it). It also deserialises from a whole
/// event document: a builder that needs nothing else takes it as its input
/// instead of a `LeadEvent`, and the lead is then skipped without being
/// built, which costs less fuel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Envelope {
    pub id: String,
    pub event: String,
    pub webhook_id: String,
    pub object_id: String,
    pub timestamp: String,
    pub actor: Actor,
}

impl From<&LeadEvent> for Envelope {
    fn from(event: &LeadEvent) -> Self {
        Self {
            id: event.id.clone(),
            event: event.event.clone(),
            webhook_id: event.webhook_id.clone(),
            object_id: event.object_id.clone(),
            timestamp: event.timestamp.clone(),
            actor: event.actor.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example event of ABI.md, with every field set and one entry of
    /// history.
    const ABI_EXAMPLE: &str = r#"{
      "id": "msg_01JD...",
      "event": "lead.stage_changed",
      "webhook_id": "wh_01JD...",
      "object_id": "lead_01JD...",
      "timestamp": "2026-11-23T14:00:00.123456Z",
      "actor": {"type": "admin_api_key", "id": "key_01JD...", "name": "default"},
      "lead": {
        "lead_profile_uid": "lead_01JD...", "email": "ada@example.com", "company": null,
        "first_name": "Ada", "last_name": "Lovelace", "phone": null, "website": null,
        "position": null, "twitter": null, "linkedin": null, "notes": null, "score": 0,
        "funnel_stage": {"id": "stage_01JD...", "title": "Inquiry", "position": 1},
        "created_at": "2026-11-23T13:59:00.000000Z", "updated_at": "2026-11-23T14:00:00.123456Z"
      },
      "previous_funnel_stage": {"id": "stage_01JD...", "title": "New", "position": 0},
      "funnel_history": [
        {"id": "fev_01JD...", "funnel_stage": {"id": "stage_01JD...", "title": "Inquiry", "position": 1},
         "occurred_at": "2026-11-23T14:00:00.123456Z",
         "source": {"type": "webhook_import", "id": "imp_01JD...", "name": "HubSpot"},
         "backfilled": false, "archived_at": null}
      ]
    }"#;

    #[test]
    fn the_abi_example_reads_and_writes_back_in_the_abi_order() {
        let event: LeadEvent = serde_json::from_str(ABI_EXAMPLE).unwrap();
        assert_eq!(event.actor.kind, "admin_api_key");
        assert_eq!(event.lead.funnel_stage.as_ref().unwrap().position, Some(1));
        assert_eq!(event.funnel_history.as_ref().unwrap().len(), 1);
        // Field for field in the ABI's order, so the lead (and the rest) can
        // be written into a body as they came.
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            concat!(
                r#"{"id":"msg_01JD...","event":"lead.stage_changed","webhook_id":"wh_01JD...","object_id":"lead_01JD...","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"admin_api_key","id":"key_01JD...","name":"default"},"#,
                r#""lead":{"lead_profile_uid":"lead_01JD...","email":"ada@example.com","company":null,"first_name":"Ada","last_name":"Lovelace","phone":null,"website":null,"position":null,"twitter":null,"linkedin":null,"notes":null,"score":0,"funnel_stage":{"id":"stage_01JD...","title":"Inquiry","position":1},"created_at":"2026-11-23T13:59:00.000000Z","updated_at":"2026-11-23T14:00:00.123456Z"},"#,
                r#""previous_funnel_stage":{"id":"stage_01JD...","title":"New","position":0},"funnel_history":[{"id":"fev_01JD...","funnel_stage":{"id":"stage_01JD...","title":"Inquiry","position":1},"occurred_at":"2026-11-23T14:00:00.123456Z","source":{"type":"webhook_import","id":"imp_01JD...","name":"HubSpot"},"backfilled":false,"archived_at":null}]}"#,
            )
        );
    }

    #[test]
    fn unknown_fields_are_skipped_and_optional_ones_default() {
        let event: LeadEvent = serde_json::from_str(
            r#"{"id": "msg_01", "event": "lead.created", "webhook_id": "wh_01",
                "object_id": "lead_01", "timestamp": "2026-11-23T14:00:00Z",
                "actor": {"type": "admin_api_key", "added_later": 1},
                "lead": {"lead_profile_uid": "lead_01", "funnel_stage": {"id": "s", "title": "T"}},
                "funnel_history": null, "added_later": {"nested": [1]}}"#,
        )
        .unwrap();
        assert_eq!(event.actor.id, None);
        assert_eq!(event.lead.score, 0);
        assert_eq!(event.lead.created_at, None);
        assert_eq!(event.lead.funnel_stage.unwrap().position, None);
        assert_eq!(event.previous_funnel_stage, None);
        assert_eq!(event.funnel_history, None);
    }

    #[test]
    fn a_history_entry_needs_only_its_id() {
        let entry: HistoryEntry = serde_json::from_str(r#"{"id": "fev_01"}"#).unwrap();
        assert!(!entry.backfilled);
        assert_eq!(
            serde_json::to_string(&entry).unwrap(),
            r#"{"id":"fev_01","funnel_stage":null,"occurred_at":null,"source":null,"backfilled":false,"archived_at":null}"#
        );
    }

    #[test]
    fn an_absent_history_is_left_out_when_written() {
        let mut event: LeadEvent = serde_json::from_str(ABI_EXAMPLE).unwrap();
        event.funnel_history = None;
        let written = serde_json::to_string(&event).unwrap();
        assert!(!written.contains("funnel_history"), "{written}");
    }

    #[test]
    fn the_envelope_is_the_same_from_an_event_or_read_alone() {
        let event: LeadEvent = serde_json::from_str(ABI_EXAMPLE).unwrap();
        let read_alone: Envelope = serde_json::from_str(ABI_EXAMPLE).unwrap();
        assert_eq!(Envelope::from(&event), read_alone);
        assert_eq!(
            serde_json::to_string(&read_alone).unwrap(),
            r#"{"id":"msg_01JD...","event":"lead.stage_changed","webhook_id":"wh_01JD...","object_id":"lead_01JD...","timestamp":"2026-11-23T14:00:00.123456Z","actor":{"type":"admin_api_key","id":"key_01JD...","name":"default"}}"#
        );
    }
}
