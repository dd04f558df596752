//! Funnel history: the events written when a lead reaches a stage, and
//! applying a [`FunnelMove`] to them inside the caller's transaction.

use sqlx::{AnyConnection, FromRow};

use super::{Database, StoreError, StoreResult};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::funnel::{FunnelMove, StagePosition, plan_move};
use crate::domain::ids::{IdKind, new_id};

/// One history event, with the stage it reached (possibly since deleted).
#[derive(Debug, Clone, FromRow)]
pub struct FunnelEvent {
    pub id: String,
    pub funnel_stage_id: String,
    pub stage_title: String,
    pub stage_position: Option<i64>,
    pub occurred_at: i64,
    pub source_type: String,
    pub source_id: String,
    pub source_name: String,
    pub backfilled: i64,
    pub archived_at: Option<i64>,
}

/// What a move did to the lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
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
pub async fn list_for_lead(
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
pub async fn list_as_of(
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

/// Moves a lead (whose row the caller has locked in its transaction) from
/// `current` to `target` by the funnel rules: forward backfills skipped
/// stages, backward archives the events after the target, the same stage
/// changes nothing. Writes the history and the lead's current stage; the
/// caller records the `lead.stage_changed` event.
///
/// `stages` are the account's live stages, read in the same transaction
/// ([`funnel_stages::positions`]).
#[allow(clippy::too_many_arguments)]
pub async fn move_lead(
    conn: &mut AnyConnection,
    stages: &[StagePosition],
    account_id: &str,
    lead_id: &str,
    current: Option<&str>,
    target: &str,
    actor: &Actor,
    now: i64,
) -> StoreResult<MoveOutcome> {
    let outcome = write_history(
        conn, stages, account_id, lead_id, current, target, actor, now,
    )
    .await?;
    if let MoveOutcome::Moved { to, .. } = &outcome {
        set_current_stages(conn, account_id, &[(lead_id, Some(to.as_str()))], now).await?;
    }
    Ok(outcome)
}

/// The history part of [`move_lead`] alone: the caller then sets the lead's
/// current stage and records the change, which lets a caller moving many
/// leads write those for all of them in a few statements.
#[allow(clippy::too_many_arguments)]
pub async fn write_history(
    conn: &mut AnyConnection,
    stages: &[StagePosition],
    account_id: &str,
    lead_id: &str,
    current: Option<&str>,
    target: &str,
    actor: &Actor,
    now: i64,
) -> StoreResult<MoveOutcome> {
    let Some(plan) = plan_move(stages, current, target) else {
        return Err(InvalidInput(format!(
            "funnel_stage_id {target} is not a stage of this account's funnel"
        ))
        .into());
    };
    match plan {
        FunnelMove::Unchanged => return Ok(MoveOutcome::Unchanged),
        FunnelMove::Forward { backfill, target } => {
            let mut reached: Vec<(&str, bool)> = backfill
                .iter()
                .map(|stage| (stage.as_str(), true))
                .collect();
            reached.push((&target, false));
            insert_events(conn, account_id, lead_id, &reached, actor, now).await?;
        }
        FunnelMove::Backward {
            target,
            target_position,
        } => {
            sqlx::query(
                "UPDATE funnel_events SET archived_at = $1 \
                 WHERE lead_id = $2 AND account_id = $3 AND archived_at IS NULL \
                 AND funnel_stage_id IN (SELECT id FROM funnel_stages \
                     WHERE account_id = $3 AND deleted_at IS NULL AND position > $4)",
            )
            .bind(now)
            .bind(lead_id)
            .bind(account_id)
            .bind(target_position)
            .execute(&mut *conn)
            .await?;
            // The target normally has an active event from when the lead
            // first passed it; a reordered funnel may leave it without one.
            sqlx::query(
                "INSERT INTO funnel_events (id, account_id, lead_id, funnel_stage_id, occurred_at, \
                     source_type, source_id, source_name, backfilled) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, 0 WHERE NOT EXISTS (SELECT 1 FROM funnel_events \
                     WHERE lead_id = $3 AND funnel_stage_id = $4 AND archived_at IS NULL)",
            )
            .bind(new_id(IdKind::FunnelEvent))
            .bind(account_id)
            .bind(lead_id)
            .bind(&target)
            .bind(now)
            .bind(actor.kind.as_str())
            .bind(&actor.id)
            .bind(&actor.name)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(MoveOutcome::Moved {
        from: current.map(str::to_owned),
        to: target.to_owned(),
    })
}

/// Takes a lead out of the funnel: its active events are archived, so a
/// later move starts again from the beginning of the funnel.
pub async fn clear_stage(
    conn: &mut AnyConnection,
    account_id: &str,
    lead_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE funnel_events SET archived_at = $1 \
         WHERE lead_id = $2 AND account_id = $3 AND archived_at IS NULL",
    )
    .bind(now)
    .bind(lead_id)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    set_current_stages(conn, account_id, &[(lead_id, None)], now).await
}

/// Sets the current stage of each (lead, stage) pair of one account, in one
/// statement.
pub async fn set_current_stages(
    conn: &mut AnyConnection,
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
        let mut query = sqlx::query(&sql).bind(now).bind(account_id);
        for (lead_id, stage_id) in chunk {
            query = query.bind(*lead_id).bind(*stage_id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one event per (stage, backfilled) in one statement; ids are made
/// in order so the events sort as they were reached.
async fn insert_events(
    conn: &mut AnyConnection,
    account_id: &str,
    lead_id: &str,
    reached: &[(&str, bool)],
    actor: &Actor,
    now: i64,
) -> StoreResult<()> {
    // $1..$6 are shared by every row; each row adds id, stage and flag.
    let rows: Vec<String> = (0..reached.len())
        .map(|row| {
            let first = 7 + row * 3;
            format!(
                "(${first}, $1, $2, ${}, $3, $4, $5, $6, ${})",
                first + 1,
                first + 2
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO funnel_events (id, account_id, lead_id, funnel_stage_id, occurred_at, \
             source_type, source_id, source_name, backfilled) VALUES {}",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql)
        .bind(account_id)
        .bind(lead_id)
        .bind(now)
        .bind(actor.kind.as_str())
        .bind(&actor.id)
        .bind(&actor.name);
    for (stage_id, backfilled) in reached {
        query = query
            .bind(new_id(IdKind::FunnelEvent))
            .bind(*stage_id)
            .bind(i64::from(*backfilled));
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
