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
use crate::storage::sql::args;
use crate::storage::statement::Statement;
use crate::storage::{Database, StoreResult};

/// Claims up to `limit` deliveries that are due and not held by a live
/// lease, for `holder` until `lease_until`. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite's
/// single writer serialises claims.
pub(crate) async fn claim_due(
    db: &Database,
    holder: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<ClaimedDelivery>> {
    let holder = holder.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            let sql = format!(
                "UPDATE deliveries SET claimed_until = $1, claimed_by = $4 WHERE id IN (\
                     SELECT id FROM deliveries \
                     WHERE next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2) \
                     ORDER BY next_attempt_at LIMIT $3{}) \
                 RETURNING {CLAIM_COLUMNS}",
                skip_locked(tx)
            );
            tx.fetch_all(&sql, args![lease_until, now, limit, &holder])
                .await
        })
    })
    .await
}

/// Extends `holder`'s claims on these deliveries (the ones it is working
/// on) to `lease_until`. A claim that
/// lapsed and was taken by another worker names that worker and is left
/// alone.
pub(crate) async fn renew(
    db: &Database,
    holder: &str,
    ids: &[String],
    lease_until: i64,
) -> StoreResult<()> {
    let statements: Vec<Statement<'static>> = ids
        .chunks(IN_LIST_CHUNK)
        .map(|chunk| {
            let mut statement = Statement::new("UPDATE deliveries SET claimed_until = ");
            statement
                .push_bind(lease_until)
                .push(" WHERE claimed_by = ")
                .push_bind(holder.to_owned())
                .push(" AND id IN (")
                .push_list(chunk.iter().cloned())
                .push(")");
            statement
        })
        .collect();
    execute_all(db, statements).await
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
