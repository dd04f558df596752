//! The events moves add, one per stage a lead reaches (the target of a
//! backward move only if it has none), many leads' in one statement.

use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, new_id};
use crate::storage::sql::Arg;
use crate::storage::write_tx::WriteTx;
use crate::storage::{StoreResult, params};

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
