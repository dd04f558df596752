//! The transactional outbox: every change to a lead writes, in the same
//! transaction, one `lead_events` row and one `deliveries` row per active
//! webhook whose events and conditions match. An event therefore exists
//! if and only if its change was committed, and a committed change cannot
//! lose its deliveries, whatever happens to the process afterwards.
//!
//! When a delivery is created the event keeps a snapshot of the lead as
//! the change left it, so payloads describe the lead at the time of the
//! event (and a deleted lead can still be described). The delivery engine
//! reads events back with [`events_by_id`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::json;

use super::leads::{self, Lead, LeadView};
use super::sql::args;
use super::statement::Statement;
use super::write_tx::WriteTx;
use super::{Backend, Database, StoreResult, corrupt_column, funnel_stages, webhooks};
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::time::micros;
use crate::domain::webhook::{EventName, OccurredEvent, Subscription};

/// One change to a lead, about to be committed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadEvent<'a> {
    pub account_id: &'a str,
    pub lead_id: &'a str,
    pub name: EventName,
    pub actor: &'a Actor,
    /// For `lead.stage_changed`: the stage the lead left (`None`: it was
    /// outside the funnel).
    pub previous_stage: Option<&'a str>,
    /// The lead's stage once the change is made (for a deletion, the stage
    /// it had).
    pub stage_after: Option<&'a str>,
}

/// A lead moving from one stage to another.
pub(crate) fn stage_changed<'a>(
    account_id: &'a str,
    lead_id: &'a str,
    from: Option<&'a str>,
    to: Option<&'a str>,
    actor: &'a Actor,
) -> LeadEvent<'a> {
    LeadEvent {
        account_id,
        lead_id,
        name: EventName::LeadStageChanged,
        actor,
        previous_stage: from,
        stage_after: to,
    }
}

/// Records the events and the deliveries they cause, inside the caller's
/// transaction, which wakes the delivery worker once it has committed
/// ([`WriteTx::deliveries_enqueued`]). The leads must
/// still exist (record a deletion before deleting the row).
/// `webhooks_versions` holds the accounts' webhooks versions where the
/// caller has already read them in this transaction
/// ([`funnel_stages::positions`]), sparing a query.
pub(crate) async fn record(
    db: &Database,
    tx: &mut WriteTx<'_>,
    events: &[LeadEvent<'_>],
    now: i64,
    webhooks_versions: &BTreeMap<&str, i64>,
) -> StoreResult<()> {
    record_with_known(db, tx, events, now, webhooks_versions, &[]).await
}

/// [`record`] where the caller holds the rows of some of the leads (those
/// it has just inserted, as they stand at the end of its changes): their
/// snapshots come from `known` instead of a read, bar their stages' titles
/// and positions, read with those of the other events.
pub(crate) async fn record_with_known(
    db: &Database,
    tx: &mut WriteTx<'_>,
    events: &[LeadEvent<'_>],
    now: i64,
    webhooks_versions: &BTreeMap<&str, i64>,
    known: &[Lead],
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut subscriptions: BTreeMap<&str, Arc<Vec<Subscription>>> = BTreeMap::new();
    for event in events {
        if !subscriptions.contains_key(event.account_id) {
            let known = webhooks_versions.get(event.account_id).copied();
            let active =
                webhooks::active_subscriptions(db.subscriptions(), tx, event.account_id, known)
                    .await?;
            subscriptions.insert(event.account_id, active);
        }
    }
    // The webhooks each event goes to.
    let targets: Vec<Vec<&Subscription>> = events
        .iter()
        .map(|event| {
            let occurred = OccurredEvent {
                name: event.name,
                stage_after: event.stage_after,
            };
            subscriptions[event.account_id]
                .iter()
                .filter(|subscription| subscription.wants(&occurred))
                .collect()
        })
        .collect();

    // Snapshots only for events that go somewhere: with no webhook
    // listening, an event costs one row.
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (event, targets) in events.iter().zip(&targets) {
        if !targets.is_empty() {
            wanted
                .entry(event.account_id)
                .or_default()
                .push(event.lead_id);
        }
    }
    let known: HashMap<&str, &Lead> = known.iter().map(|lead| (lead.id.as_str(), lead)).collect();
    let mut snapshots: HashMap<String, LeadView> = HashMap::new();
    let mut repeated = false;
    let mut known_at_stage = false;
    for (account_id, mut lead_ids) in wanted {
        lead_ids.sort_unstable();
        let before = lead_ids.len();
        lead_ids.dedup();
        repeated |= lead_ids.len() < before;
        let mut unknown = Vec::with_capacity(lead_ids.len());
        for lead_id in lead_ids {
            match known.get(lead_id) {
                Some(lead) => {
                    known_at_stage |= lead.funnel_stage_id.is_some();
                    snapshots.insert(lead.id.clone(), LeadView::from((*lead).clone()));
                }
                None => unknown.push(lead_id),
            }
        }
        if unknown.is_empty() {
            continue;
        }
        for lead in leads::fetch_many(tx, account_id, &unknown).await? {
            snapshots.insert(lead.id.clone(), LeadView::from(lead));
        }
    }
    // The snapshot is the lead after the last change; an earlier event of
    // the same lead in this transaction shows the stage it moved to. A
    // known lead's stage is shown the same way.
    let by_event = repeated || known_at_stage;
    let stages = if by_event {
        let ids: Vec<&str> = events
            .iter()
            .filter_map(|event| event.stage_after)
            .collect();
        funnel_stages::views_by_id(tx, &ids).await?
    } else {
        HashMap::new()
    };
    let event_snapshots: Vec<Option<LeadView>> = events
        .iter()
        .map(|event| {
            let mut snapshot = snapshots.get(event.lead_id)?.clone();
            if !stages.is_empty() || known.contains_key(event.lead_id) {
                snapshot.funnel_stage = event.stage_after.and_then(|id| stages.get(id).cloned());
            }
            Some(snapshot)
        })
        .collect();

    let event_ids: Vec<String> = events.iter().map(|_| new_id(IdKind::LeadEvent)).collect();
    let rows: Vec<EventRow> = events
        .iter()
        .zip(&event_ids)
        .zip(event_snapshots)
        .zip(&targets)
        .map(|(((event, id), snapshot), targets)| EventRow::new(event, id, snapshot, targets.len()))
        .collect();
    let mut deliveries = Vec::new();
    for ((event, targets), event_id) in events.iter().zip(&targets).zip(&event_ids) {
        for subscription in targets {
            deliveries.push((event, *subscription, event_id.as_str()));
        }
    }
    insert_events_and_deliveries(tx, &rows, &deliveries, now).await?;
    release_full_batches(tx, &deliveries, now).await?;
    tx.deliveries_enqueued(deliveries.len());
    Ok(())
}

/// Rows per statement of each kind.
const CHUNK: usize = 100;

/// An event's `lead_events` row.
struct EventRow<'e> {
    event: &'e LeadEvent<'e>,
    id: &'e str,
    /// JSON: the stage ids and, when a delivery was made, the lead
    /// snapshot.
    data: String,
    /// The deliveries it makes: only an event that made some is indexed
    /// by lead (`lead_events_delivered`), for finding a lead's deliveries.
    delivery_count: i64,
}

impl<'e> EventRow<'e> {
    fn new(
        event: &'e LeadEvent<'e>,
        id: &'e str,
        snapshot: Option<LeadView>,
        delivery_count: usize,
    ) -> Self {
        let mut data = json!({
            "previous_funnel_stage_id": event.previous_stage,
            "funnel_stage_id": event.stage_after,
        });
        if let Some(snapshot) = snapshot {
            data["lead"] = json!(snapshot);
        }
        Self {
            event,
            id,
            data: data.to_string(),
            delivery_count: i64::try_from(delivery_count).unwrap_or(i64::MAX),
        }
    }
}

/// Writes the events and the deliveries they cause, 100 rows of each kind
/// per statement. On PostgreSQL a chunk of events and a chunk of
/// deliveries share a statement (the events' `INSERT` inside a `WITH`):
/// one round trip fewer for every write that reaches a webhook. SQLite
/// has no `INSERT` inside a `WITH`; there they are statements of their
/// own, which costs it a function call, not a round trip.
async fn insert_events_and_deliveries(
    tx: &mut WriteTx<'_>,
    events: &[EventRow<'_>],
    deliveries: &[(&LeadEvent<'_>, &Subscription, &str)],
    now: i64,
) -> StoreResult<()> {
    let mut delivery_chunks = deliveries.chunks(CHUNK);
    let together = tx.backend() == Backend::Postgres;
    for chunk in events.chunks(CHUNK) {
        let mut statement = Statement::new("");
        let paired = together.then(|| delivery_chunks.next()).flatten();
        if paired.is_some() {
            statement.push("WITH inserted_events AS (");
        }
        push_events(&mut statement, chunk, now);
        if let Some(deliveries) = paired {
            statement.push(") ");
            push_deliveries(&mut statement, deliveries, now);
        }
        tx.execute(statement.sql(), statement.args()).await?;
    }
    for chunk in delivery_chunks {
        let mut statement = Statement::new("");
        push_deliveries(&mut statement, chunk, now);
        tx.execute(statement.sql(), statement.args()).await?;
    }
    Ok(())
}

/// `INSERT INTO lead_events ...` for `rows`.
fn push_events<'a>(statement: &mut Statement<'a>, rows: &'a [EventRow<'a>], now: i64) {
    statement.push(
        "INSERT INTO lead_events (id, account_id, lead_id, event_type, actor_type, actor_id, \
             actor_name, data, occurred_at, delivery_count) VALUES ",
    );
    statement.push_values(rows, |row, event| {
        let actor = event.event.actor;
        row.bind(event.id)
            .bind(event.event.account_id)
            .bind(event.event.lead_id)
            .bind(event.event.name.as_str())
            .bind(actor.kind.as_str())
            .bind(&actor.id)
            .bind(&actor.name)
            .bind(&event.data)
            .bind(now)
            .bind(event.delivery_count);
    });
}

/// `INSERT INTO deliveries ...`: one row per (event, webhook). A batching
/// webhook's delivery falls due when its batch's wait is over (or sooner,
/// once the batch is full: [`release_full_batches`]).
fn push_deliveries<'a>(
    statement: &mut Statement<'a>,
    deliveries: &'a [(&LeadEvent<'_>, &Subscription, &str)],
    now: i64,
) {
    statement.push(
        "INSERT INTO deliveries (id, account_id, webhook_id, event_id, event_type, lead_id, \
             next_attempt_at, batch_key, status, created_at, updated_at) VALUES ",
    );
    statement.push_values(deliveries, |row, (event, subscription, event_id)| {
        let batch_key = subscription.batching.mode.key(event.name.as_str());
        let due = if batch_key.is_some() {
            now.saturating_add(micros(subscription.batching.wait))
        } else {
            now
        };
        row.bind(new_id(IdKind::Delivery))
            .bind(event.account_id)
            .bind(subscription.webhook_id.as_str())
            .bind(*event_id)
            .bind(event.name.as_str())
            .bind(event.lead_id)
            .bind(due)
            .bind(batch_key)
            .bind("pending")
            .bind(now)
            .bind(now);
    });
}

/// A batch goes out as soon as it is full: when a batching webhook now has
/// at least `max_items` deliveries waiting under one key, they fall due now.
async fn release_full_batches(
    tx: &mut WriteTx<'_>,
    deliveries: &[(&LeadEvent<'_>, &Subscription, &str)],
    now: i64,
) -> StoreResult<()> {
    let mut groups: Vec<(&Subscription, String)> = Vec::new();
    for (event, subscription, _) in deliveries {
        if let Some(key) = subscription.batching.mode.key(event.name.as_str())
            && !groups.iter().any(|(known, known_key)| {
                known.webhook_id == subscription.webhook_id && *known_key == key
            })
        {
            groups.push((subscription, key));
        }
    }
    for (subscription, key) in groups {
        let (waiting,): (i64,) = tx
            .fetch_one(
                "SELECT COUNT(*) FROM deliveries \
                 WHERE webhook_id = $1 AND batch_key = $2 AND status = 'pending' AND next_attempt_at > $3",
                args![subscription.webhook_id.as_str(), &key, now],
            )
            .await?;
        if waiting >= i64::from(subscription.batching.max_items) {
            tx.execute(
                "UPDATE deliveries SET next_attempt_at = $3 \
                 WHERE webhook_id = $1 AND batch_key = $2 AND status = 'pending' AND next_attempt_at > $3",
                args![subscription.webhook_id.as_str(), &key, now],
            )
            .await?;
        }
    }
    Ok(())
}

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

impl super::sql::FromDbRow for StoredEvent {
    fn from_db_row(row: &super::sql::DbRow<'_, '_>) -> StoreResult<Self> {
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
        let mut query = super::statement::Statement::new(
            "SELECT id, event_type, lead_id, actor_type, actor_id, actor_name, data, occurred_at \
             FROM lead_events WHERE id IN (",
        );
        query.push_list(chunk.iter().copied()).push(")");
        let found: Vec<StoredEvent> =
            super::sql::fetch_all(db.reader(), query.sql(), query.args()).await?;
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
