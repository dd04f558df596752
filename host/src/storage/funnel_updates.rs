//! Applying funnel updates sent by a webhook import: a list of (lead, stage)
//! records, each applied by the funnel rules, all committed together before
//! the caller answers.
//!
//! A record fails (lead not found, stage not in the funnel) only before it
//! has written anything, so failed records need no savepoint and never
//! disturb the others. Leads are locked in id order before any record is
//! applied, so two batches touching the same leads in different orders wait
//! for each other instead of deadlocking.

use std::collections::{BTreeSet, HashMap};

use super::funnel_history::{self, MoveOutcome};
use super::{Database, StoreError, StoreResult};
use crate::domain::actor::Actor;
use crate::domain::time::now_micros;

/// One record to apply: a lead and the stage it should be at.
#[derive(Debug, Clone)]
pub struct FunnelUpdate {
    pub lead_id: String,
    pub stage_id: String,
}

/// What happened to one applied record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    Updated,
    Unchanged,
}

/// Why one record was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFailure {
    LeadNotFound,
    InvalidStage,
}

/// Applies `updates` in order in one transaction; returns one result per
/// update. An `Err` means nothing was written.
pub async fn apply(
    db: &Database,
    account_id: &str,
    actor: &Actor,
    updates: &[FunnelUpdate],
) -> StoreResult<Vec<Result<UpdateStatus, RecordFailure>>> {
    let mut tx = db.begin().await?;
    let lead_ids: BTreeSet<&str> = updates
        .iter()
        .map(|update| update.lead_id.as_str())
        .collect();
    let mut current_stages: HashMap<String, Option<String>> = HashMap::new();
    let lock = format!(
        "SELECT funnel_stage_id FROM leads WHERE account_id = $1 AND id = $2{}",
        db.for_update()
    );
    for lead_id in lead_ids {
        let row: Option<(Option<String>,)> = sqlx::query_as(&lock)
            .bind(account_id)
            .bind(lead_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((stage,)) = row {
            current_stages.insert(lead_id.to_owned(), stage);
        }
    }

    let now = now_micros();
    let mut results = Vec::with_capacity(updates.len());
    for update in updates {
        let Some(current) = current_stages.get_mut(&update.lead_id) else {
            results.push(Err(RecordFailure::LeadNotFound));
            continue;
        };
        let moved = funnel_history::move_lead(
            &mut tx,
            account_id,
            &update.lead_id,
            current.as_deref(),
            &update.stage_id,
            actor,
            now,
        )
        .await;
        results.push(match moved {
            Ok(MoveOutcome::Unchanged) => Ok(UpdateStatus::Unchanged),
            Ok(MoveOutcome::Moved { to, .. }) => {
                *current = Some(to);
                Ok(UpdateStatus::Updated)
            }
            Ok(MoveOutcome::Left { .. }) => Ok(UpdateStatus::Updated),
            Err(StoreError::Invalid(_)) => Err(RecordFailure::InvalidStage),
            Err(other) => return Err(other),
        });
    }
    tx.commit().await?;
    Ok(results)
}
