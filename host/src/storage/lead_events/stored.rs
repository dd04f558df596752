//! Reading the outbox's events back, as stored, for the delivery engine's
//! payloads; a corrupt `actor_type` is reported, not guessed.

use std::collections::HashMap;

use crate::domain::actor::ActorKind;
use crate::storage::{Database, StoreResult, corrupt_column};

/// A lead event as the outbox stored it.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub id: String,
    pub event_type: String,
    pub lead_id: String,
    pub actor_kind: ActorKind,
    pub actor_id: String,
    pub actor_name: String,
    /// JSON: the stage ids and, when a delivery was made, the lead snapshot.
    pub data: String,
    pub occurred_at: i64,
}

impl crate::storage::sql::FromDbRow for StoredEvent {
    fn from_db_row(row: &crate::storage::sql::DbRow<'_, '_>) -> StoreResult<Self> {
        let id: String = row.get("id")?;
        let actor_kind = stored_actor_kind(&id, &row.get::<String>("actor_type")?)?;
        Ok(Self {
            id,
            event_type: row.get("event_type")?,
            lead_id: row.get("lead_id")?,
            actor_kind,
            actor_id: row.get("actor_id")?,
            actor_name: row.get("actor_name")?,
            data: row.get("data")?,
            occurred_at: row.get("occurred_at")?,
        })
    }
}

/// An event's `actor_type` parsed back; an unknown one is reported (see
/// [`corrupt_column`]) rather than sent to receivers as an admin key's
/// change.
fn stored_actor_kind(event_id: &str, actor_type: &str) -> StoreResult<ActorKind> {
    ActorKind::parse(actor_type).ok_or_else(|| {
        corrupt_column(
            &format!("lead event {event_id}"),
            "actor_type",
            format!("`{actor_type}` is neither admin_api_key nor webhook_import"),
        )
    })
}

/// The stored events with these ids, by id.
pub(crate) async fn events_by_id(
    db: &Database,
    event_ids: &[&str],
) -> StoreResult<HashMap<String, StoredEvent>> {
    let mut events = HashMap::with_capacity(event_ids.len());
    for chunk in event_ids.chunks(500) {
        let mut query = crate::storage::statement::Statement::new(
            "SELECT id, event_type, lead_id, actor_type, actor_id, actor_name, data, occurred_at \
             FROM lead_events WHERE id IN (",
        );
        query.push_list(chunk.iter().copied()).push(")");
        let found: Vec<StoredEvent> =
            crate::storage::sql::fetch_all(db.reader(), query.sql(), query.args()).await?;
        events.extend(found.into_iter().map(|event| (event.id.clone(), event)));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_actor_kind_is_parsed_and_an_unknown_one_refused() {
        for kind in [ActorKind::AdminApiKey, ActorKind::WebhookImport] {
            assert_eq!(
                stored_actor_kind("evt_1", kind.as_str()).expect("a known kind"),
                kind
            );
        }
        let error = stored_actor_kind("evt_1", "robot").expect_err("an unknown kind");
        let message = error.to_string();
        assert!(message.contains("lead event evt_1"), "{message}");
        assert!(message.contains("column actor_type"), "{message}");
        assert!(message.contains("`robot`"), "{message}");
    }
}
