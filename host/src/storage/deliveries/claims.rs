//! Claiming due deliveries with a lease, renewing a worker's leases, and
//! giving deliveries back.
//!
//! A claim names its holder (`claimed_by`, the worker's id) and lasts until
//! `claimed_until`. The holder renews all its claims every few seconds
//! while it runs, so the lease can be short: a process that dies stops
//! holding its deliveries within one lease, and another process (or this
//! one, restarted) sends them. A result is written only while its worker
//! still holds the delivery (`attempts::write_attempts`).

use super::{CLAIM_COLUMNS, ClaimedDelivery, IN_LIST_CHUNK, skip_locked};
use crate::storage::sql::{DbRow, FromDbRow, args};
use crate::storage::statement::Statement;
use crate::storage::{Database, StoreResult};

/// A webhook with deliveries due that no live claim holds, as a claim
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DueWebhook {
    pub webhook_id: String,
    pub account_id: String,
    /// When the oldest of them fell due (µs).
    pub oldest_due: i64,
    /// The webhook's cap on deliveries in flight.
    pub max_in_flight: i64,
}

impl FromDbRow for DueWebhook {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        Ok(Self {
            webhook_id: row.get("webhook_id")?,
            account_id: row.get("account_id")?,
            oldest_due: row.get("oldest_due")?,
            max_in_flight: row.get("max_in_flight")?,
        })
    }
}

/// The webhooks with due deliveries nobody holds (`$1`: now). The webhooks
/// with scheduled deliveries are found by skipping through the
/// `(webhook_id, next_attempt_at)` index from one webhook to the next (one
/// seek each, however long a webhook's queue); then each one's oldest due
/// delivery nobody holds, past the few it has in flight.
const DUE_WEBHOOKS: &str = "WITH RECURSIVE scheduled (webhook_id) AS (\
         SELECT (SELECT webhook_id FROM deliveries WHERE next_attempt_at IS NOT NULL \
             ORDER BY webhook_id LIMIT 1) \
         UNION ALL \
         SELECT (SELECT d.webhook_id FROM deliveries d \
             WHERE d.next_attempt_at IS NOT NULL AND d.webhook_id > s.webhook_id \
             ORDER BY d.webhook_id LIMIT 1) \
         FROM scheduled s WHERE s.webhook_id IS NOT NULL) \
     SELECT webhook_id, account_id, max_in_flight, oldest_due FROM (\
         SELECT w.id AS webhook_id, w.account_id, w.max_in_flight, \
             (SELECT d.next_attempt_at FROM deliveries d \
                 WHERE d.webhook_id = w.id AND d.next_attempt_at <= $1 \
                 AND (d.claimed_until IS NULL OR d.claimed_until < $1) \
                 ORDER BY d.next_attempt_at LIMIT 1) AS oldest_due \
         FROM scheduled s JOIN webhooks w ON w.id = s.webhook_id) due \
     WHERE oldest_due IS NOT NULL";

/// Claims due deliveries that no live lease holds, for `holder` until
/// `lease_until`: `share` decides, from the webhooks with such deliveries,
/// how many to take from each (see `outbound::delivery::fairness`), and
/// each webhook's share is taken oldest first. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`), so a share
/// may come back short; SQLite's single writer serialises claims.
pub(crate) async fn claim_due(
    db: &Database,
    holder: &str,
    now: i64,
    lease_until: i64,
    share: impl FnOnce(&[DueWebhook]) -> Vec<(String, i64)> + Send + 'static,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let holder = holder.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            let due: Vec<DueWebhook> = tx.fetch_all(DUE_WEBHOOKS, args![now]).await?;
            let shares = share(&due);
            let sql = format!(
                "UPDATE deliveries SET claimed_until = $1, claimed_by = $2 WHERE id IN (\
                     SELECT id FROM deliveries \
                     WHERE webhook_id = $3 AND next_attempt_at <= $4 \
                     AND (claimed_until IS NULL OR claimed_until < $4) \
                     ORDER BY next_attempt_at LIMIT $5{}) \
                 RETURNING {CLAIM_COLUMNS}",
                skip_locked(tx)
            );
            let mut claimed = Vec::new();
            for (webhook_id, take) in shares {
                let rows: Vec<ClaimedDelivery> = tx
                    .fetch_all(&sql, args![lease_until, &holder, &webhook_id, now, take])
                    .await?;
                claimed.extend(rows);
            }
            Ok(claimed)
        })
    })
    .await
}

/// Extends `holder`'s claims on these deliveries (the ones it is working
/// on) to `lease_until`. A claim that lapsed and was taken by another
/// worker names that worker and is left alone. On PostgreSQL rows locked
/// right now are skipped rather than waited for: the lock is the recorder
/// writing their result (which ends the claim), and waiting for it, in
/// whatever order each statement takes its locks, deadlocked.
pub(crate) async fn renew(
    db: &Database,
    holder: &str,
    ids: &[String],
    lease_until: i64,
) -> StoreResult<()> {
    let holder = holder.to_owned();
    let ids = ids.to_vec();
    db.write(move |tx| {
        Box::pin(async move {
            let skip_locked = skip_locked(tx);
            for chunk in ids.chunks(IN_LIST_CHUNK) {
                let mut statement = Statement::new("UPDATE deliveries SET claimed_until = ");
                statement
                    .push_bind(lease_until)
                    .push(" WHERE id IN (SELECT id FROM deliveries WHERE claimed_by = ")
                    .push_bind(holder.clone())
                    .push(" AND id IN (")
                    .push_list(chunk.iter().cloned())
                    .push(")")
                    .push(skip_locked)
                    .push(")");
                tx.execute(statement.sql(), statement.args()).await?;
            }
            Ok(())
        })
    })
    .await
}

/// Gives `holder`'s claims on these deliveries back at once (when they
/// could not be processed, or the worker stops without waiting for them),
/// instead of waiting for their lease to run out.
pub(crate) async fn release(db: &Database, holder: &str, ids: &[String]) -> StoreResult<()> {
    let statements: Vec<Statement<'static>> = ids
        .chunks(IN_LIST_CHUNK)
        .map(|chunk| {
            let mut statement = Statement::new(
                "UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by = ",
            );
            statement
                .push_bind(holder.to_owned())
                .push(" AND id IN (")
                .push_list(chunk.iter().cloned())
                .push(")");
            statement
        })
        .collect();
    execute_all(db, statements).await
}

/// Runs the statements in one transaction (none: no transaction).
async fn execute_all(db: &Database, statements: Vec<Statement<'static>>) -> StoreResult<()> {
    if statements.is_empty() {
        return Ok(());
    }
    db.write(move |tx| {
        Box::pin(async move {
            for statement in &statements {
                tx.execute(statement.sql(), statement.args()).await?;
            }
            Ok(())
        })
    })
    .await
}
