//! One group's transaction: the leads its records touch locked, each plain
//! record applied by the funnel rules (history written as it goes, through
//! [`Waiting`]), the leads' current stages and the outbox rows written once
//! at the end, then the lead records (`lead_sync`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::locks::lock_leads;
use super::waiting::Waiting;
use super::{RecordFailure, RequestResults, UpdateRequest, UpdateStatus};
use crate::domain::funnel::FunnelMove;
use crate::domain::time::now_micros;
use crate::storage::account_funnel;
use crate::storage::funnel_history::{self, BackwardMove, LeadMove};
use crate::storage::lead_events::{self, LeadEvent};
use crate::storage::lead_sync::{self, SyncBatch};
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreError, StoreResult};

/// Applies every request, in order, in one transaction; one result list
/// per request, returned once committed. History is written record by
/// record (a backward move must see the events earlier records wrote); the
/// leads' current stages and the outbox rows, which no later record reads,
/// are written once at the end.
pub(super) async fn apply_all(
    db: &Database,
    requests: Arc<Vec<UpdateRequest>>,
) -> StoreResult<Vec<RequestResults>> {
    let writer = db.clone();
    db.write(move |tx| {
        Box::pin(async move {
            let requests: Vec<&UpdateRequest> = requests.iter().collect();
            apply_uncommitted(&writer, tx, &requests).await
        })
    })
    .await
}

/// The work of [`apply_all`], inside the caller's transaction.
async fn apply_uncommitted(
    db: &Database,
    tx: &mut WriteTx<'_>,
    requests: &[&UpdateRequest],
) -> StoreResult<Vec<RequestResults>> {
    // The leads lead records may touch are locked with the others.
    let syncing: Vec<SyncBatch> = requests
        .iter()
        .filter_map(|request| {
            let (source, records) = request.lead_records.as_ref()?;
            Some(SyncBatch {
                account_id: &request.account_id,
                source,
                actor: &request.actor,
                records,
            })
        })
        .collect();
    let sync_candidates = lead_sync::candidates(tx, &syncing).await?;
    let mut leads_by_account: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for request in requests {
        let leads = leads_by_account
            .entry(request.account_id.as_str())
            .or_default();
        leads.extend(request.updates.iter().map(|update| update.lead_id.as_str()));
        if let Some(candidates) = sync_candidates.get(&request.account_id) {
            leads.extend(candidates.iter().map(String::as_str));
        }
    }
    let mut current_stages: HashMap<(&str, &str), Option<String>> = HashMap::new();
    let mut funnels = HashMap::new();
    let mut webhooks_versions = BTreeMap::new();
    for (account_id, lead_ids) in &leads_by_account {
        let locked = lock_leads(tx, account_id, lead_ids).await?;
        let versions = locked.versions;
        for (lead_id, stage) in locked.stages {
            if let Some(lead_id) = lead_ids.get(lead_id.as_str()) {
                current_stages.insert((account_id, lead_id), stage);
            }
        }
        let funnel = account_funnel::read(db, tx, account_id, versions).await?;
        webhooks_versions.insert(*account_id, funnel.webhooks_version);
        funnels.insert(*account_id, funnel.stages);
    }

    let now = now_micros();
    // (request, lead, from, to) of each change, in order.
    let mut moves: Vec<(&UpdateRequest, &str, Option<String>, String)> = Vec::new();
    let mut all_results = Vec::with_capacity(requests.len());
    // Moves' history writes wait here and go in a few statements per
    // account; a lead moving again first writes what is waiting (its
    // next move must see it), so what waits is of distinct leads and its
    // statements can run in any order.
    let mut waiting = Waiting::default();
    for request in requests {
        let account_id = request.account_id.as_str();
        let stages = &funnels[account_id];
        let mut results = Vec::with_capacity(request.updates.len());
        for update in &request.updates {
            let Some(current) = current_stages.get_mut(&(account_id, update.lead_id.as_str()))
            else {
                results.push(Err(RecordFailure::LeadNotFound));
                continue;
            };
            let lead_move = LeadMove {
                stages,
                account_id,
                lead_id: &update.lead_id,
                current: current.as_deref(),
                target: &update.stage_id,
                actor: &request.actor,
                now,
            };
            let plan = match funnel_history::plan(&lead_move) {
                Ok(Some(plan)) => plan,
                Ok(None) => {
                    results.push(Ok(UpdateStatus::Unchanged));
                    continue;
                }
                Err(StoreError::Invalid(_)) => {
                    results.push(Err(RecordFailure::InvalidStage));
                    continue;
                }
                Err(other) => return Err(other),
            };
            match plan {
                FunnelMove::Backward {
                    target,
                    target_position,
                } => {
                    if waiting.has(account_id, &update.lead_id) {
                        waiting.write(tx, now).await?;
                    }
                    let backward = BackwardMove::new(
                        stages,
                        &update.lead_id,
                        &request.actor,
                        target,
                        target_position,
                    );
                    waiting.add_backward(account_id, backward);
                }
                FunnelMove::Forward { backfill, target } => {
                    if waiting.has(account_id, &update.lead_id) {
                        waiting.write(tx, now).await?;
                    }
                    waiting.add_forward(
                        account_id,
                        &update.lead_id,
                        backfill,
                        target,
                        &request.actor,
                    );
                }
                FunnelMove::Unchanged => {}
            }
            let from = current.take();
            *current = Some(update.stage_id.clone());
            moves.push((request, &update.lead_id, from, update.stage_id.clone()));
            results.push(Ok(UpdateStatus::Updated));
        }
        all_results.push(results);
    }
    waiting.write(tx, now).await?;

    let moved: BTreeSet<(&str, &str)> = moves
        .iter()
        .map(|(request, lead_id, ..)| (request.account_id.as_str(), *lead_id))
        .collect();
    for account_id in leads_by_account.keys() {
        let final_stages: Vec<(&str, Option<&str>)> = moved
            .iter()
            .filter(|(account, _)| account == account_id)
            .map(|key| (key.1, current_stages.get(key).and_then(Option::as_deref)))
            .collect();
        if !final_stages.is_empty() {
            funnel_history::set_current_stages(tx, account_id, &final_stages, now).await?;
        }
    }
    let events: Vec<LeadEvent> = moves
        .iter()
        .map(|(request, lead_id, from, to)| {
            lead_events::stage_changed(
                &request.account_id,
                lead_id,
                from.as_deref(),
                Some(to),
                &request.actor,
            )
        })
        .collect();
    lead_events::record(db, tx, &events, now, &webhooks_versions).await?;

    // Lead records, after every plain record (whose stages are written by
    // now): see `lead_sync`.
    let mut lead_results = lead_sync::apply(
        db,
        tx,
        &syncing,
        &sync_candidates,
        &funnels,
        &webhooks_versions,
    )
    .await?
    .into_iter();
    Ok(all_results
        .into_iter()
        .zip(requests)
        .map(|(updates, request)| RequestResults {
            updates,
            leads: match request.lead_records {
                Some(_) => lead_results.next().unwrap_or_default(),
                None => Vec::new(),
            },
        })
        .collect())
}
