//! A webhook's health, as the delivery engine sees it: its run of failed
//! attempts (`failing_since`), and Switchyard deactivating it, with the
//! reason, when the receiver answers `410 Gone` or has failed for too
//! long. Written to the `webhooks` table, which `storage::webhooks` owns
//! otherwise.

use super::sql::args;
use super::statement::Statement;
use super::write_tx::WriteTx;
use super::{Database, StoreResult, fresh_version, webhooks};
use crate::domain::time::now_micros;

/// Webhook ids one `IN (...)` list binds at most.
const IN_LIST_CHUNK: usize = 200;

/// Clears (`since` = None) or starts (keeping an earlier start) the run of
/// failures of these webhooks, inside the caller's transaction. Returns the
/// webhooks whose run starts now, as (id, account, name).
pub(crate) async fn set_failing(
    tx: &mut WriteTx<'_>,
    webhook_ids: &[&str],
    since: Option<i64>,
) -> StoreResult<Vec<(String, String, String)>> {
    let mut started = Vec::new();
    for chunk in webhook_ids.chunks(IN_LIST_CHUNK) {
        match since {
            None => {
                let mut update = Statement::new(
                    "UPDATE webhooks SET failing_since = NULL \
                     WHERE failing_since IS NOT NULL AND id IN (",
                );
                update.push_list(chunk.iter().copied()).push(")");
                tx.execute(update.sql(), update.args()).await?;
            }
            Some(since) => {
                let mut update = Statement::new("UPDATE webhooks SET failing_since = ");
                update
                    .push_bind(since)
                    .push(" WHERE failing_since IS NULL AND id IN (")
                    .push_list(chunk.iter().copied())
                    .push(") RETURNING id, account_id, name");
                started.extend(
                    tx.fetch_all::<(String, String, String)>(update.sql(), update.args())
                        .await?,
                );
            }
        }
    }
    Ok(started)
}

/// Deactivates webhooks whose every attempt has failed since before
/// `cutoff`, recording why; returns their ids.
pub(crate) async fn disable_long_failing(
    db: &Database,
    cutoff: i64,
    reason: &str,
) -> StoreResult<Vec<String>> {
    let candidates: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, account_id FROM webhooks \
         WHERE active = 1 AND failing_since IS NOT NULL AND failing_since < $1",
    )
    .bind(cutoff)
    .fetch_all(db.reader())
    .await?;
    let mut disabled = Vec::new();
    for (webhook_id, account_id) in candidates {
        let (webhook, reason) = (webhook_id.clone(), reason.to_owned());
        let updated = db
            .write(move |tx| {
                Box::pin(async move {
                    // The account first, as every writer of webhooks takes them.
                    webhooks::bump_version(tx, &account_id).await?;
                    tx.execute(
                        "UPDATE webhooks SET active = 0, disabled_reason = $1, updated_at = $2 \
                         WHERE id = $3 AND active = 1 AND failing_since IS NOT NULL \
                             AND failing_since < $4",
                        args![&reason, now_micros(), &webhook, cutoff],
                    )
                    .await
                })
            })
            .await?;
        if updated == 1 {
            disabled.push(webhook_id);
        }
    }
    Ok(disabled)
}

/// Deactivates a webhook on Switchyard's own decision, recording why.
pub(crate) async fn disable(db: &Database, webhook_id: &str, reason: &str) -> StoreResult<()> {
    let (webhook, reason) = (webhook_id.to_owned(), reason.to_owned());
    db.write(move |tx| {
        Box::pin(async move {
            // The account first (see `webhooks::delete`).
            tx.execute(
                "UPDATE accounts SET webhooks_version = $2 \
                 WHERE id = (SELECT account_id FROM webhooks WHERE id = $1)",
                args![&webhook, fresh_version()],
            )
            .await?;
            tx.execute(
                "UPDATE webhooks SET active = 0, disabled_reason = $1, updated_at = $2 \
                 WHERE id = $3",
                args![&reason, now_micros(), &webhook],
            )
            .await?;
            Ok(())
        })
    })
    .await
}
