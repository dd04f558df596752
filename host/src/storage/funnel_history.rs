//! Funnel history: the events written when a lead reaches a stage, and
//! applying a [`FunnelMove`] to them inside the caller's transaction.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::sql::{Arg, args};
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, params};
use crate::domain::InvalidInput;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::funnel::{FunnelMove, StagePosition, plan_move};
use crate::domain::ids::{IdKind, new_id};

/// One history event, with the stage it reached (possibly since deleted).
#[derive(Debug, Clone)]
pub(crate) struct FunnelEvent {
    pub id: String,
    pub funnel_stage_id: String,
    pub stage_title: String,
    pub stage_position: Option<i64>,
    pub occurred_at: i64,
    /// Who moved the lead (the `source_*` columns).
    pub source: Actor,
    /// True when the lead skipped this stage and it was filled in.
    pub backfilled: bool,
    pub archived_at: Option<i64>,
}

/// Columns are parsed here, once: a source type this build does not know
/// means the row was edited by hand, and is reported rather than shown as
/// some other kind of caller.
impl FromRow<'_, AnyRow> for FunnelEvent {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let source_type: String = row.try_get("source_type")?;
        let kind = ActorKind::parse(&source_type).ok_or_else(|| {
            sqlx::Error::Decode(
                format!("funnel event {id}: column source_type is not valid: {source_type:?}")
                    .into(),
            )
        })?;
        Ok(Self {
            funnel_stage_id: row.try_get("funnel_stage_id")?,
            stage_title: row.try_get("stage_title")?,
            stage_position: row.try_get("stage_position")?,
            occurred_at: row.try_get("occurred_at")?,
            source: Actor {
                kind,
                id: row.try_get("source_id")?,
                name: row.try_get("source_name")?,
            },
            backfilled: row.try_get::<i64, _>("backfilled")? != 0,
            archived_at: row.try_get("archived_at")?,
            id,
        })
    }
}

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

/// A lead's history in the order it happened; archived events only when
/// asked for. `None` when the lead does not exist in the account.
pub(crate) async fn list_for_lead(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    include_archived: bool,
) -> StoreResult<Vec<FunnelEvent>> {
    let lead_exists: Option<(String,)> =
        sqlx::query_as("SELECT id FROM leads WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(lead_id)
            .fetch_optional(db.reader())
            .await?;
    if lead_exists.is_none() {
        return Err(StoreError::NotFound(format!("Lead {lead_id} not found")));
    }
    let archived_filter = if include_archived {
        ""
    } else {
        " AND e.archived_at IS NULL"
    };
    let events = sqlx::query_as::<_, FunnelEvent>(&format!(
        "SELECT e.id, e.funnel_stage_id, s.title AS stage_title, s.position AS stage_position, \
                e.occurred_at, e.source_type, e.source_id, e.source_name, e.backfilled, e.archived_at \
         FROM funnel_events e JOIN funnel_stages s ON s.id = e.funnel_stage_id \
         WHERE e.account_id = $1 AND e.lead_id = $2{archived_filter} \
         ORDER BY e.occurred_at, e.id"
    ))
    .bind(account_id)
    .bind(lead_id)
    .fetch_all(db.reader())
    .await?;
    Ok(events)
}

/// A lead's history as it stood at `at` (µs): events that had happened,
/// archived only if they had been archived by then. For payloads of past
/// events.
pub(crate) async fn list_as_of(
    db: &Database,
    account_id: &str,
    lead_id: &str,
    at: i64,
) -> StoreResult<Vec<FunnelEvent>> {
    let events = sqlx::query_as::<_, FunnelEvent>(
        "SELECT e.id, e.funnel_stage_id, s.title AS stage_title, s.position AS stage_position, \
                e.occurred_at, e.source_type, e.source_id, e.source_name, e.backfilled, \
                CASE WHEN e.archived_at <= $3 THEN e.archived_at ELSE NULL END AS archived_at \
         FROM funnel_events e JOIN funnel_stages s ON s.id = e.funnel_stage_id \
         WHERE e.account_id = $1 AND e.lead_id = $2 AND e.occurred_at <= $3 \
         ORDER BY e.occurred_at, e.id",
    )
    .bind(account_id)
    .bind(lead_id)
    .bind(at)
    .fetch_all(db.reader())
    .await?;
    Ok(events)
}

/// A lead moving to a stage by the funnel rules, inside the caller's
/// transaction, with the lead's row locked by the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadMove<'a> {
    /// The account's live stages, read in the same transaction
    /// ([`funnel_stages::positions`](super::funnel_stages::positions)).
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
pub(crate) async fn write_history(
    tx: &mut WriteTx<'_>,
    lead_move: LeadMove<'_>,
) -> StoreResult<MoveOutcome> {
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

/// One history event a move adds: each stage a forward move reaches, or
/// the target of a backward move.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReachedStage<'a> {
    pub lead_id: &'a str,
    pub stage_id: &'a str,
    pub backfilled: bool,
    pub actor: &'a Actor,
    /// Written only if the lead has no active event at the stage (the
    /// target of a backward move normally has one).
    pub only_if_missing: bool,
}

/// The events of a forward move, in the order the stages were reached.
pub(crate) fn reached_rows<'a>(
    lead_id: &'a str,
    backfill: &'a [String],
    target: &'a str,
    actor: &'a Actor,
) -> Vec<ReachedStage<'a>> {
    backfill
        .iter()
        .map(|stage| (stage.as_str(), true))
        .chain([(target, false)])
        .map(|(stage_id, backfilled)| ReachedStage {
            lead_id,
            stage_id,
            backfilled,
            actor,
            only_if_missing: false,
        })
        .collect()
}

/// Writes moves' events, of distinct leads of one account, in one
/// statement per 100 rows; ids are made in order so the events sort as
/// they were reached. Rows marked [`ReachedStage::only_if_missing`] are
/// skipped where the lead has an active event at the stage, in the same
/// statement.
pub(crate) async fn insert_reached(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    rows: &[ReachedStage<'_>],
    now: i64,
) -> StoreResult<()> {
    // $1 = now, $2 = account; each row adds id, lead, stage, source type,
    // id and name, the backfilled flag and the only-if-missing flag.
    const COLUMNS: usize = 8;
    for chunk in rows.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| format!("({})", params(3 + row * COLUMNS, COLUMNS)))
            .collect();
        let condition = if chunk.iter().any(|row| row.only_if_missing) {
            " WHERE v.column8 = 0 OR NOT EXISTS (SELECT 1 FROM funnel_events f \
                 WHERE f.lead_id = v.column2 AND f.funnel_stage_id = v.column3 \
                 AND f.archived_at IS NULL)"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO funnel_events (id, account_id, lead_id, funnel_stage_id, occurred_at, \
                 source_type, source_id, source_name, backfilled) \
             SELECT v.column1, $2, v.column2, v.column3, $1, v.column4, v.column5, v.column6, \
                 v.column7 FROM (VALUES {}) AS v{condition}",
            values.join(", ")
        );
        let mut binds = Vec::with_capacity(2 + chunk.len() * COLUMNS);
        binds.push(Arg::from(now));
        binds.push(Arg::from(account_id));
        for row in chunk {
            binds.extend([
                Arg::from(new_id(IdKind::FunnelEvent)),
                Arg::from(row.lead_id),
                Arg::from(row.stage_id),
                Arg::from(row.actor.kind.as_str()),
                Arg::from(&row.actor.id),
                Arg::from(&row.actor.name),
                Arg::from(row.backfilled),
                Arg::from(row.only_if_missing),
            ]);
        }
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}

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
pub(crate) async fn move_backward(
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
pub(crate) async fn move_backward_many(
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
