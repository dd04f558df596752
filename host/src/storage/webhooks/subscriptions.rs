//! The active webhooks of each account as the outbox matches events
//! against them, cached per account and checked against the version every
//! change to a webhook bumps.

use std::sync::Arc;

use crate::domain::webhook::{Batching, Conditions, EventName, Subscription};
use crate::storage::sql::args;
use crate::storage::versioned_cache::VersionedCache;
use crate::storage::write_tx::WriteTx;
use crate::storage::{StoreResult, fresh_version};

/// The active webhooks of each account, as the outbox matches them, kept
/// per account with the `accounts.webhooks_version` they were read at.
/// Every change to a webhook bumps that version in the same transaction,
/// and a write transaction reads the version (share-locked on PostgreSQL,
/// so webhook changes wait for it) before using the cache: a webhook
/// created, changed or deactivated by any process is seen at once.
pub(crate) type SubscriptionCache = VersionedCache<Vec<Subscription>>;

/// The active webhooks of an account, in the caller's transaction.
/// `known_version` is the account's webhooks version if the caller has
/// read it in this transaction already.
pub(crate) async fn active_subscriptions(
    cache: &SubscriptionCache,
    tx: &mut WriteTx<'_>,
    account_id: &str,
    known_version: Option<i64>,
) -> StoreResult<Arc<Vec<Subscription>>> {
    let version = match known_version {
        Some(version) => version,
        None => {
            let sql = format!(
                "SELECT webhooks_version FROM accounts WHERE id = $1{}",
                tx.for_share()
            );
            let (version,): (i64,) = tx.fetch_one(&sql, args![account_id]).await?;
            version
        }
    };
    if let Some(cached) = cache.get(account_id, version) {
        return Ok(cached);
    }
    let rows: Vec<(String, String, String, String, i64, i64)> = tx
        .fetch_all(
            "SELECT id, events, conditions, batch_mode, batch_wait_ms, batch_max_items \
             FROM webhooks WHERE account_id = $1 AND active = 1",
            args![account_id],
        )
        .await?;
    let mut subscriptions = Vec::with_capacity(rows.len());
    for (webhook_id, events, conditions, batch_mode, wait_ms, max_items) in rows {
        let (Ok(events), Ok(conditions), Ok(batching)) = (
            serde_json::from_str::<Vec<EventName>>(&events),
            serde_json::from_str::<Conditions>(&conditions),
            Batching::from_columns(&batch_mode, wait_ms, max_items),
        ) else {
            tracing::error!(%webhook_id, "webhook has unreadable events, conditions or batching; skipped");
            continue;
        };
        subscriptions.push(Subscription {
            webhook_id,
            events,
            conditions,
            batching,
        });
    }
    let subscriptions = Arc::new(subscriptions);
    cache.put(account_id, version, Arc::clone(&subscriptions));
    Ok(subscriptions)
}

/// Marks the account's webhooks as changed (see [`SubscriptionCache`]).
pub(crate) async fn bump_version(tx: &mut WriteTx<'_>, account_id: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE accounts SET webhooks_version = $2 WHERE id = $1",
        args![account_id, fresh_version()],
    )
    .await?;
    Ok(())
}
