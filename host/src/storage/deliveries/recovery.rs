//! Recovering a webhook's failed deliveries in bulk: counting those that
//! failed since a time, and queueing a bounded number of them (oldest
//! first) to be sent again, each under its own message id and with a fresh
//! retry schedule, exactly as a single resend does
//! ([`super::resend`]). Used by the API's `recover` endpoint
//! and the admin UI's "Recover failed deliveries".
//!
//! Batch deliveries are left out: the messages a failed batch carried
//! failed with it, and are recovered one by one, so no message goes out
//! twice. Test sends are left out too: they carry no real event.

use crate::domain::ids::{IdKind, id_floor};
use crate::domain::time::now_micros;
use crate::storage::sql::args;
use crate::storage::{Database, StoreResult};

/// The deliveries a recovery picks: the webhook's failed messages created
/// at or after `$3` (µs) and not held by an attempt right now. Ids sort by
/// creation time, so `id >= $4` (the id floor of `$3`) lets the
/// `(webhook_id, id)` index find them without reading older ones.
const FAILED_SINCE: &str = "account_id = $1 AND webhook_id = $2 AND status = 'failed' \
     AND event_type NOT IN ('batch', 'test') AND created_at >= $3 AND id >= $4 \
     AND (claimed_until IS NULL OR claimed_until < $5)";

/// How many of the webhook's deliveries failed since `since` (µs) and would
/// be recovered.
pub(crate) async fn count_failed_since(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    since: i64,
) -> StoreResult<i64> {
    let floor = id_floor(IdKind::Delivery, since);
    let (count,): (i64,) = sqlx::query_as(&format!(
        "SELECT COUNT(*) FROM deliveries WHERE {FAILED_SINCE}"
    ))
    .bind(account_id)
    .bind(webhook_id)
    .bind(since)
    .bind(floor)
    .bind(now_micros())
    .fetch_one(db.reader())
    .await?;
    Ok(count)
}

/// Queues up to `limit` of the webhook's deliveries that failed since
/// `since` (µs), oldest first, to be sent again now; returns how many were
/// queued. Calling it again picks up where it stopped: the ones queued are
/// no longer failed.
pub(crate) async fn requeue_failed_since(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    since: i64,
    limit: i64,
) -> StoreResult<u64> {
    let (account, webhook) = (account_id.to_owned(), webhook_id.to_owned());
    let floor = id_floor(IdKind::Delivery, since);
    db.write(move |tx| {
        Box::pin(async move {
            let now = now_micros();
            let queued = tx
                .execute(
                    &format!(
                        "UPDATE deliveries SET status = 'pending', next_attempt_at = $5, \
                             attempt_count = 0, next_trigger = 'resend', updated_at = $5, \
                             batch_key = NULL, batch_id = NULL \
                         WHERE id IN (SELECT id FROM deliveries WHERE {FAILED_SINCE} \
                             ORDER BY id LIMIT $6)"
                    ),
                    args![&account, &webhook, since, &floor, now, limit],
                )
                .await?;
            tx.deliveries_enqueued(usize::try_from(queued).unwrap_or(usize::MAX));
            Ok(queued)
        })
    })
    .await
}
