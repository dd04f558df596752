//! Recording a transaction's lead events: the active subscriptions each
//! event matches, the snapshots of the leads for the events that go
//! somewhere, then the rows ([`super::insert`]) and full batches released
//! ([`super::batches`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::LeadEvent;
use super::batches::release_full_batches;
use super::insert::{EventRow, insert_events_and_deliveries};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::webhook::{OccurredEvent, Subscription};
use crate::storage::leads::{self, Lead, LeadView};
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreResult, funnel_stages, webhooks};

/// Records the events and the deliveries they cause, inside the caller's
/// transaction, which wakes the delivery worker once it has committed
/// ([`WriteTx::deliveries_enqueued`]). The leads must
/// still exist (record a deletion before deleting the row).
/// `webhooks_versions` holds the accounts' webhooks versions where the
/// caller has already read them in this transaction
/// ([`account_funnel::read`](crate::storage::account_funnel::read)),
/// sparing a query.
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
