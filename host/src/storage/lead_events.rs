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

/// Records that a lead moved from one stage to another (`None` is outside
/// the funnel).
pub async fn record_stage_change(
    conn: &mut AnyConnection,
    account_id: &str,
    lead_id: &str,
    from_stage_id: Option<&str>,
    to_stage_id: Option<&str>,
    actor: &Actor,
    now: i64,
) -> StoreResult<()> {
    let data = json!({
        "from_funnel_stage_id": from_stage_id,
        "to_funnel_stage_id": to_stage_id,
    });
    sqlx::query(
        "INSERT INTO lead_events (id, account_id, lead_id, event_type, actor_type, actor_id, \
             actor_name, data, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id(IdKind::LeadEvent))
    .bind(account_id)
    .bind(lead_id)
    .bind(STAGE_CHANGED)
    .bind(actor.kind.as_str())
    .bind(&actor.id)
    .bind(&actor.name)
    .bind(data.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
