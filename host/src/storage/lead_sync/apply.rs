//! Step 3 of lead sync: a group's records played against the locked leads
//! ([`super::plan`]), then written: the leads' rows ([`super::write`]),
//! the history and the events with the outbox; and the admin API's
//! creates answered with their leads as committed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::plan::{self, Known, Leads, Planned};
use super::write;
use super::{Candidates, RecordSource, SyncBatch, Synced};
use crate::domain::funnel::{FunnelMove, StagePosition};
use crate::domain::time::now_micros;
use crate::storage::funnel_history::BackwardMove;
use crate::storage::funnel_stages;
use crate::storage::funnel_updates::{LeadResults, Waiting};
use crate::storage::lead_events::{self, LeadEvent};
use crate::storage::leads::{self, Lead};
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreError, StoreResult};

/// Step 3: applies the records of `batches`, in order, once their
/// `candidates` are locked and the group's plain records written; one
/// result list per batch. `funnels` holds each account's live stages and
/// `webhooks_versions` what the caller read of them in this transaction.
pub(crate) async fn apply(
    db: &Database,
    tx: &mut WriteTx<'_>,
    batches: &[SyncBatch<'_>],
    candidates: &Candidates,
    funnels: &HashMap<&str, Arc<Vec<StagePosition>>>,
    webhooks_versions: &BTreeMap<&str, i64>,
) -> StoreResult<Vec<LeadResults>> {
    // Each account's candidates as they stand now: locked, at the stages
    // the group's plain records left them.
    let mut leads: BTreeMap<&str, Leads> = BTreeMap::new();
    for batch in batches {
        if leads.contains_key(batch.account_id) {
            continue;
        }
        let ids: Vec<&str> = candidates
            .get(batch.account_id)
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut known = Vec::with_capacity(ids.len());
        for lead in leads::fetch_many(tx, batch.account_id, &ids).await? {
            let fields = lead.fields().map_err(StoreError::from)?;
            let external = lead.external_import_id.zip(lead.external_id);
            known.push(Known::existing(
                lead.id,
                fields,
                lead.funnel_stage_id,
                external,
            ));
        }
        leads.insert(batch.account_id, Leads::new(known));
    }

    let mut planned = Planned::default();
    let mut results = Vec::with_capacity(batches.len());
    for batch in batches {
        let stages = funnels
            .get(batch.account_id)
            .map_or(&[][..], |stages| stages.as_slice());
        let account_leads = leads.entry(batch.account_id).or_default();
        results.push(
            batch
                .records
                .iter()
                .map(|record| plan::play(account_leads, batch, stages, record, &mut planned))
                .collect(),
        );
    }

    let now = now_micros();
    for (account_id, account_leads) in &leads {
        write::write_leads(tx, account_id, account_leads, now).await?;
    }
    // History in record order, a few statements at a time: a lead moving
    // again first writes what waits (its next move must see it).
    let mut waiting = Waiting::default();
    for planned_move in &planned.moves {
        let (account_id, lead_id) = (planned_move.account_id, planned_move.lead_id.as_str());
        if waiting.has(account_id, lead_id) {
            waiting.write(tx, now).await?;
        }
        match &planned_move.plan {
            FunnelMove::Forward { backfill, target } => waiting.add_forward(
                account_id,
                lead_id,
                backfill.clone(),
                target.clone(),
                planned_move.actor,
            ),
            FunnelMove::Backward {
                target,
                target_position,
            } => waiting.add_backward(
                account_id,
                BackwardMove::new(
                    planned_move.stages,
                    lead_id,
                    planned_move.actor,
                    target.clone(),
                    *target_position,
                ),
            ),
            FunnelMove::Unchanged => {}
        }
    }
    waiting.write(tx, now).await?;
    let events: Vec<LeadEvent> = planned
        .events
        .iter()
        .map(|event| LeadEvent {
            account_id: event.account_id,
            lead_id: &event.lead_id,
            name: event.name,
            actor: event.actor,
            previous_stage: event.previous_stage.as_deref(),
            stage_after: event.stage_after.as_deref(),
        })
        .collect();
    // The leads the group created are as it inserted them: their events'
    // snapshots and the admin API's answers need no read of their rows.
    let created: Vec<Lead> = leads
        .values()
        .flat_map(|account_leads| &account_leads.all)
        .filter(|known| known.created())
        .map(|known| known.inserted_row(now))
        .collect();
    lead_events::record_with_known(db, tx, &events, now, webhooks_versions, &created).await?;
    answer_admin_creates(tx, batches, &mut results, created).await?;
    Ok(results)
}

/// Gives each admin create that succeeded its lead as committed, with its
/// stage's title and position (read only when one has a stage).
async fn answer_admin_creates(
    tx: &mut WriteTx<'_>,
    batches: &[SyncBatch<'_>],
    results: &mut [LeadResults],
    created: Vec<Lead>,
) -> StoreResult<()> {
    let mut answers: Vec<&mut Synced> = batches
        .iter()
        .zip(results.iter_mut())
        .filter(|(batch, _)| matches!(batch.source, RecordSource::AdminCreate))
        .flat_map(|(_, results)| results.iter_mut().flatten())
        .collect();
    if answers.is_empty() {
        return Ok(());
    }
    let mut created: HashMap<String, Lead> = created
        .into_iter()
        .map(|lead| (lead.id.clone(), lead))
        .collect();
    let stage_ids: Vec<&str> = answers
        .iter()
        .filter_map(|synced| created.get(&synced.lead_id)?.funnel_stage_id.as_deref())
        .collect();
    let stages = if stage_ids.is_empty() {
        HashMap::new()
    } else {
        funnel_stages::views_by_id(tx, &stage_ids).await?
    };
    for synced in &mut answers {
        let Some(mut lead) = created.remove(&synced.lead_id) else {
            continue;
        };
        if let Some(stage) = lead.funnel_stage_id.as_ref().and_then(|id| stages.get(id)) {
            lead.funnel_stage_title = Some(stage.title.clone());
            lead.funnel_stage_position = stage.position;
        }
        synced.lead = Some(Box::new(lead));
    }
    Ok(())
}
