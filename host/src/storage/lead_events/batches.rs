//! Full batches released at once: a batching webhook's deliveries fall due
//! when their batch's wait is over, or as soon as it holds `max_items`.

use super::LeadEvent;
use crate::domain::webhook::Subscription;
use crate::storage::StoreResult;
use crate::storage::sql::args;
use crate::storage::write_tx::WriteTx;

/// A batch goes out as soon as it is full: when a batching webhook now has
/// at least `max_items` deliveries waiting under one key, they fall due now.
pub(super) async fn release_full_batches(
    tx: &mut WriteTx<'_>,
    deliveries: &[(&LeadEvent<'_>, &Subscription, &str)],
    now: i64,
) -> StoreResult<()> {
    let mut groups: Vec<(&Subscription, String)> = Vec::new();
    for (event, subscription, _) in deliveries {
        if let Some(key) = subscription.batching.mode.key(event.name.as_str())
            && !groups.iter().any(|(known, known_key)| {
                known.webhook_id == subscription.webhook_id && *known_key == key
            })
        {
            groups.push((subscription, key));
        }
    }
    for (subscription, key) in groups {
        let (waiting,): (i64,) = tx
            .fetch_one(
                "SELECT COUNT(*) FROM deliveries \
                 WHERE webhook_id = $1 AND batch_key = $2 AND status = 'pending' AND next_attempt_at > $3",
                args![subscription.webhook_id.as_str(), &key, now],
            )
            .await?;
        if waiting >= i64::from(subscription.batching.max_items) {
            tx.execute(
                "UPDATE deliveries SET next_attempt_at = $3 \
                 WHERE webhook_id = $1 AND batch_key = $2 AND status = 'pending' AND next_attempt_at > $3",
                args![subscription.webhook_id.as_str(), &key, now],
            )
            .await?;
        }
    }
    Ok(())
}
