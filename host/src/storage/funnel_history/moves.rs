//! One lead's move by the funnel rules, inside the caller's transaction:
//! planning it, writing its history, setting the lead's current stage;
//! and taking a lead out of the funnel.

use super::backward::move_backward;
use super::reached::{insert_reached, reached_rows};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::funnel::{FunnelMove, StagePosition, plan_move};
use crate::storage::sql::{Arg, args};
use crate::storage::write_tx::WriteTx;
use crate::storage::{StoreError, StoreResult};

/// What a move did to the lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoveOutcome {
    Unchanged,
    Moved {
        from: Option<String>,
        to: String,
    },
    /// The lead was taken out of the funnel.
    Left {
        from: String,
    },
}

/// A lead moving to a stage by the funnel rules, inside the caller's
/// transaction, with the lead's row locked by the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadMove<'a> {
    /// The account's live stages, read in the same transaction
    /// ([`AccountFunnel`](crate::storage::account_funnel::AccountFunnel)).
    pub stages: &'a [StagePosition],
    pub account_id: &'a str,
    pub lead_id: &'a str,
    /// The stage the lead is at now.
    pub current: Option<&'a str>,
    pub target: &'a str,
    pub actor: &'a Actor,
    pub now: i64,
}

/// Moves a lead from `current` to `target` by the funnel rules: forward
/// backfills skipped stages, backward archives the events after the
/// target, the same stage changes nothing. Writes the history and the
/// lead's current stage; the caller records the `lead.stage_changed` event.
pub(crate) async fn move_lead(
    tx: &mut WriteTx<'_>,
    lead_move: LeadMove<'_>,
) -> StoreResult<MoveOutcome> {
    let outcome = write_history(tx, lead_move).await?;
    if let MoveOutcome::Moved { to, .. } = &outcome {
        set_current_stages(
            tx,
            lead_move.account_id,
            &[(lead_move.lead_id, Some(to.as_str()))],
            lead_move.now,
        )
        .await?;
    }
    Ok(outcome)
}

/// The history part of [`move_lead`] alone: the caller then sets the lead's
/// current stage and records the change.
async fn write_history(tx: &mut WriteTx<'_>, lead_move: LeadMove<'_>) -> StoreResult<MoveOutcome> {
    let Some(plan) = plan(&lead_move)? else {
        return Ok(MoveOutcome::Unchanged);
    };
    match &plan {
        FunnelMove::Forward { backfill, target } => {
            let rows = reached_rows(lead_move.lead_id, backfill, target, lead_move.actor);
            insert_reached(tx, lead_move.account_id, &rows, lead_move.now).await?;
        }
        FunnelMove::Backward {
            target,
            target_position,
        } => move_backward(tx, &lead_move, target, *target_position).await?,
        FunnelMove::Unchanged => {}
    }
    Ok(MoveOutcome::Moved {
        from: lead_move.current.map(str::to_owned),
        to: lead_move.target.to_owned(),
    })
}

/// What moving the lead means by the funnel rules; `None` when it is at
/// the target already, an error when the target is not in the funnel.
pub(crate) fn plan(lead_move: &LeadMove<'_>) -> StoreResult<Option<FunnelMove>> {
    match plan_move(lead_move.stages, lead_move.current, lead_move.target) {
        None => Err(not_a_stage(lead_move.target)),
        Some(FunnelMove::Unchanged) => Ok(None),
        Some(plan) => Ok(Some(plan)),
    }
}

/// A move's target that is not a live stage of the account's funnel.
pub(crate) fn not_a_stage(target: &str) -> StoreError {
    InvalidInput(format!(
        "funnel_stage_id {target} is not a stage of this account's funnel"
    ))
    .into()
}

/// Takes a lead out of the funnel: its active events are archived, so a
/// later move starts again from the beginning of the funnel.
pub(crate) async fn clear_stage(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    lead_id: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE funnel_events SET archived_at = $1 \
         WHERE lead_id = $2 AND account_id = $3 AND archived_at IS NULL",
        args![now, lead_id, account_id],
    )
    .await?;
    set_current_stages(tx, account_id, &[(lead_id, None)], now).await
}

/// Sets the current stage of each (lead, stage) pair of one account, in one
/// statement.
pub(crate) async fn set_current_stages(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    stages: &[(&str, Option<&str>)],
    now: i64,
) -> StoreResult<()> {
    for chunk in stages.chunks(200) {
        // $1 = now, $2 = account; then (lead id, stage id) per lead.
        let cases: String = (0..chunk.len())
            .map(|i| format!(" WHEN ${} THEN ${}", 3 + 2 * i, 4 + 2 * i))
            .collect();
        let ids: Vec<String> = (0..chunk.len())
            .map(|i| format!("${}", 3 + 2 * i))
            .collect();
        let sql = format!(
            "UPDATE leads SET funnel_stage_id = CASE id{cases} END, updated_at = $1 \
             WHERE account_id = $2 AND id IN ({})",
            ids.join(", ")
        );
        let mut binds = Vec::with_capacity(2 + 2 * chunk.len());
        binds.push(Arg::from(now));
        binds.push(Arg::from(account_id));
        for (lead_id, stage_id) in chunk {
            binds.push(Arg::from(*lead_id));
            binds.push(Arg::from(*stage_id));
        }
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}
