//! Retention: old attempt logs, finished deliveries and the lead events
//! nothing refers to any more are purged, a bounded batch at a time.

use crate::domain::ids::{IdKind, id_floor};
use crate::storage::sql::args;
use crate::storage::{Database, StoreResult};

/// Rows one purge statement deletes at most, so that purging never holds
/// the writer (SQLite's only one) for long.
const PURGE_BATCH: i64 = 1_000;

/// Deletes, a bounded batch at a time, attempts older than `cutoff`,
/// finished deliveries last touched before it that have no attempts left,
/// and lead events no delivery refers to. Returns the rows deleted.
pub(crate) async fn purge_before(db: &Database, cutoff: i64) -> StoreResult<u64> {
    let statements = [
        "DELETE FROM delivery_attempts WHERE id IN \
             (SELECT id FROM delivery_attempts WHERE id < $3 LIMIT $2)",
        "DELETE FROM deliveries WHERE id IN (SELECT d.id FROM deliveries d \
             WHERE d.updated_at < $1 AND d.status NOT IN ('pending', 'batched') \
             AND NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id) \
             LIMIT $2)",
        "DELETE FROM lead_events WHERE id IN (SELECT e.id FROM lead_events e \
             WHERE e.id < $4 \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) \
             LIMIT $2)",
    ];
    let attempt_floor = id_floor(IdKind::DeliveryAttempt, cutoff);
    let event_floor = id_floor(IdKind::LeadEvent, cutoff);
    let mut deleted = 0;
    for sql in statements {
        loop {
            // Each batch is a write of its own: other writes go in between.
            let (attempt_floor, event_floor) = (attempt_floor.clone(), event_floor.clone());
            let rows = db
                .write(move |tx| {
                    Box::pin(async move {
                        tx.execute(
                            sql,
                            args![cutoff, PURGE_BATCH, &attempt_floor, &event_floor],
                        )
                        .await
                    })
                })
                .await?;
            deleted += rows;
            if rows < PURGE_BATCH as u64 {
                break;
            }
            // Let other writers in between batches.
            tokio::task::yield_now().await;
        }
    }
    Ok(deleted)
}
