//! Claiming due deliveries with a lease, and giving them back.

use super::{CLAIM_COLUMNS, ClaimedDelivery, IN_LIST_CHUNK, skip_locked};
use crate::storage::sql::args;
use crate::storage::statement::Statement;
use crate::storage::{Database, StoreResult};

/// Claims up to `limit` deliveries that are due and not held by a live
/// lease, until `lease_until`. On PostgreSQL concurrent workers skip each
/// other's rows (`FOR UPDATE SKIP LOCKED`); SQLite's single writer
/// serialises claims.
pub(crate) async fn claim_due(
    db: &Database,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> StoreResult<Vec<ClaimedDelivery>> {
    db.write(move |tx| {
        Box::pin(async move {
            let sql = format!(
                "UPDATE deliveries SET claimed_until = $1 WHERE id IN (\
                     SELECT id FROM deliveries \
                     WHERE next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2) \
                     ORDER BY next_attempt_at LIMIT $3{}) \
                 RETURNING {CLAIM_COLUMNS}",
                skip_locked(tx)
            );
            tx.fetch_all(&sql, args![lease_until, now, limit]).await
        })
    })
    .await
}

/// Gives claimed deliveries back at once (when they could not be
/// processed), instead of waiting for their lease to run out.
pub(crate) async fn release(db: &Database, claimed: &[ClaimedDelivery]) -> StoreResult<()> {
    let statements: Vec<Statement<'static>> = claimed
        .chunks(IN_LIST_CHUNK)
        .map(|chunk| {
            let mut statement =
                Statement::new("UPDATE deliveries SET claimed_until = NULL WHERE id IN (");
            statement
                .push_list(chunk.iter().map(|delivery| delivery.id.clone()))
                .push(")");
            statement
        })
        .collect();
    execute_all(db, statements).await
}

/// Releases every delivery held under these leases (a worker shutting
/// down with deliveries still in flight).
pub(crate) async fn release_leases(db: &Database, leases: &[i64]) -> StoreResult<()> {
    let statements: Vec<Statement<'static>> = leases
        .chunks(IN_LIST_CHUNK)
        .map(|chunk| {
            let mut statement = Statement::new(
                "UPDATE deliveries SET claimed_until = NULL WHERE claimed_until IN (",
            );
            statement.push_list(chunk.iter().copied()).push(")");
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
