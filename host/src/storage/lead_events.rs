//! The outbox of lead events: one row per change to a lead, written in the
//! same transaction as the change, so that an event exists if and only if
//! the change was committed. The delivery worker turns these rows into
//! webhook deliveries.

use serde_json::json;
use sqlx::AnyConnection;

use super::StoreResult;
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, new_id};

/// The event names a lead change can produce.
pub const STAGE_CHANGED: &str = "lead.stage_changed";

/// A lead moving from one stage to another (`None` is outside the funnel).
#[derive(Debug, Clone, Copy)]
pub struct StageChange<'a> {
    pub account_id: &'a str,
    pub lead_id: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub actor: &'a Actor,
}

/// Records stage changes as `lead.stage_changed` events, many per statement.
pub async fn record_stage_changes(
    conn: &mut AnyConnection,
    changes: &[StageChange<'_>],
    now: i64,
) -> StoreResult<()> {
    const COLUMNS: usize = 8;
    for chunk in changes.chunks(100) {
        // $1 = now; then the other columns of each row.
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let first = 2 + row * COLUMNS;
                let params: Vec<String> =
                    (first..first + COLUMNS).map(|n| format!("${n}")).collect();
                format!("({}, $1)", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO lead_events (id, account_id, lead_id, event_type, actor_type, actor_id, \
                 actor_name, data, occurred_at) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(now);
        for change in chunk {
            let data = json!({
                "from_funnel_stage_id": change.from,
                "to_funnel_stage_id": change.to,
            });
            query = query
                .bind(new_id(IdKind::LeadEvent))
                .bind(change.account_id)
                .bind(change.lead_id)
                .bind(STAGE_CHANGED)
                .bind(change.actor.kind.as_str())
                .bind(&change.actor.id)
                .bind(&change.actor.name)
                .bind(data.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
