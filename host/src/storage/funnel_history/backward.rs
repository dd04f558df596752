//! Backward moves: the events after each lead's target are archived and
//! the target gets an event if it has no active one, for many leads in two
//! statements rather than a round trip per move.

use std::collections::BTreeMap;

use super::moves::LeadMove;
use super::reached::{ReachedStage, insert_reached};
use crate::domain::actor::Actor;
use crate::domain::funnel::StagePosition;
use crate::storage::sql::Arg;
use crate::storage::write_tx::WriteTx;
use crate::storage::{StoreResult, params};

/// A backward move, ready to be written alone or with the others of its
/// group ([`move_backward_many`]).
#[derive(Debug, Clone)]
pub(crate) struct BackwardMove<'a> {
    pub lead_id: &'a str,
    pub target: String,
    /// The live stages after the target: their active events are archived.
    pub archived_stages: Vec<&'a str>,
    pub actor: &'a Actor,
}

impl<'a> BackwardMove<'a> {
    /// `lead_id` moving back to `target`, at `target_position` of the live
    /// `stages` the move was planned against.
    pub(crate) fn new(
        stages: &'a [StagePosition],
        lead_id: &'a str,
        actor: &'a Actor,
        target: String,
        target_position: i64,
    ) -> Self {
        Self {
            lead_id,
            target,
            archived_stages: stages
                .iter()
                .filter(|stage| stage.position > target_position)
                .map(|stage| stage.id.as_str())
                .collect(),
            actor,
        }
    }
}

impl BackwardMove<'_> {
    /// The event the target gets if it has no active one (a reordered
    /// funnel may leave it without).
    pub(crate) fn target_row(&self) -> ReachedStage<'_> {
        ReachedStage {
            lead_id: self.lead_id,
            stage_id: &self.target,
            backfilled: false,
            actor: self.actor,
            only_if_missing: true,
        }
    }
}

/// A backward move: the events after the target are archived, and the
/// target gets an event if it has no active one.
pub(super) async fn move_backward(
    tx: &mut WriteTx<'_>,
    lead_move: &LeadMove<'_>,
    target: &str,
    target_position: i64,
) -> StoreResult<()> {
    let backward = BackwardMove::new(
        lead_move.stages,
        lead_move.lead_id,
        lead_move.actor,
        target.to_owned(),
        target_position,
    );
    move_backward_many(tx, lead_move.account_id, &[backward], lead_move.now).await
}

/// Writes backward moves of distinct leads of one account in two
/// statements (per 100 moves), whatever their number: one archives the
/// events after each lead's target, one adds the targets that have no
/// active event. A statement per move was a round trip per move on
/// PostgreSQL, the largest per-change cost of a grouped transaction.
async fn move_backward_many(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    moves: &[BackwardMove<'_>],
    now: i64,
) -> StoreResult<()> {
    archive_after_targets(tx, account_id, moves, now).await?;
    let targets: Vec<ReachedStage> = moves.iter().map(BackwardMove::target_row).collect();
    insert_reached(tx, account_id, &targets, now).await
}

/// Archives the active events of each move's `archived_stages`. Moves to
/// the same target share one term, `(lead_id IN (..) AND funnel_stage_id
/// IN (..))`, each of which SQLite and PostgreSQL answer from the index on
/// (lead_id, archived_at, funnel_stage_id) without reading archived events.
pub(crate) async fn archive_after_targets(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    moves: &[BackwardMove<'_>],
    now: i64,
) -> StoreResult<()> {
    for chunk in moves.chunks(200) {
        archive_chunk(tx, account_id, chunk, now).await?;
    }
    Ok(())
}

async fn archive_chunk(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    moves: &[BackwardMove<'_>],
    now: i64,
) -> StoreResult<()> {
    let mut by_stages: BTreeMap<&[&str], Vec<&str>> = BTreeMap::new();
    for backward in moves {
        if !backward.archived_stages.is_empty() {
            by_stages
                .entry(backward.archived_stages.as_slice())
                .or_default()
                .push(backward.lead_id);
        }
    }
    if by_stages.is_empty() {
        return Ok(());
    }
    // $1 = now, $2 = account; then each term's leads and stages.
    let mut binds = vec![Arg::from(now), Arg::from(account_id)];
    let mut terms = Vec::with_capacity(by_stages.len());
    for (stages, leads) in &by_stages {
        let leads_from = binds.len() + 1;
        binds.extend(leads.iter().map(|lead| Arg::from(*lead)));
        let stages_from = binds.len() + 1;
        binds.extend(stages.iter().map(|stage| Arg::from(*stage)));
        terms.push(format!(
            "(lead_id IN ({}) AND funnel_stage_id IN ({}))",
            params(leads_from, leads.len()),
            params(stages_from, stages.len())
        ));
    }
    let sql = format!(
        "UPDATE funnel_events SET archived_at = $1 \
         WHERE account_id = $2 AND archived_at IS NULL AND ({})",
        terms.join(" OR ")
    );
    tx.execute(&sql, &binds).await?;
    Ok(())
}
