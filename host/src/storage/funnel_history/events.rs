//! Reading a lead's funnel history: as it is (archived events only when
//! asked for), or as it stood at a time, for the payloads of past events.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::domain::actor::{Actor, ActorKind};
use crate::storage::{Database, StoreError, StoreResult};

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
