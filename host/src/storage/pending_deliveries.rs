//! How many deliveries each account has waiting to be sent, for the cap
//! on undelivered deliveries (`--max-pending-deliveries-per-account`,
//! issue 15). Read periodically by `http::flood_control`, never on the
//! write path.

use std::collections::HashMap;

use sqlx::Row;

use super::{Database, StoreResult};

/// Scheduled deliveries (those with a next attempt time: first sends,
/// retries, batch windows, attempts in flight) by account; accounts with
/// none are absent.
///
/// Counted per webhook through the `deliveries_webhook_due` index (webhook
/// id and time only, so PostgreSQL can answer from the index), then summed
/// per account over the few webhook rows. The cost grows with the number
/// of scheduled deliveries, which the cap itself bounds.
pub(crate) async fn by_account(db: &Database) -> StoreResult<HashMap<String, u64>> {
    let rows = sqlx::query(
        "SELECT w.account_id, c.scheduled FROM \
             (SELECT webhook_id, COUNT(*) AS scheduled FROM deliveries \
              WHERE next_attempt_at IS NOT NULL GROUP BY webhook_id) c \
         JOIN webhooks w ON w.id = c.webhook_id",
    )
    .fetch_all(db.reader())
    .await?;
    let mut counts: HashMap<String, u64> = HashMap::new();
    for row in rows {
        let account_id: String = row.try_get(0)?;
        let scheduled: i64 = row.try_get(1)?;
        *counts.entry(account_id).or_default() += u64::try_from(scheduled).unwrap_or(0);
    }
    Ok(counts)
}
