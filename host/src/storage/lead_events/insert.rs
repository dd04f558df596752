//! The outbox's rows: the events' `lead_events` rows and the deliveries'
//! `deliveries` rows, a hundred of each kind per statement, together in
//! one statement on PostgreSQL.

use serde_json::json;

use super::LeadEvent;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::time::micros;
use crate::domain::webhook::Subscription;
use crate::storage::leads::LeadView;
use crate::storage::statement::Statement;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Backend, StoreResult};

/// Rows per statement of each kind.
const CHUNK: usize = 100;

/// An event's `lead_events` row.
pub(super) struct EventRow<'e> {
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
    pub(super) fn new(
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
pub(super) async fn insert_events_and_deliveries(
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
/// once the batch is full: [`release_full_batches`](super::batches::release_full_batches)).
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
