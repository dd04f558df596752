//! Claiming due deliveries with a lease, renewing a worker's leases, and
//! giving deliveries back.
//!
//! A claim names its holder (`claimed_by`, the worker's id) and lasts until
//! `claimed_until`. The holder renews all its claims every few seconds
//! while it runs, so the lease can be short: a process that dies stops
//! holding its deliveries within one lease, and another process (or this
//! one, restarted) sends them. A result is written only while its worker
//! still holds the delivery (`attempts::write_attempts`).

use std::collections::HashMap;

use super::{CLAIM_COLUMNS, ClaimedDelivery, IN_LIST_CHUNK, skip_locked};
use crate::storage::sql::{self, DbRow, FromDbRow, args};
use crate::storage::statement::Statement;
use crate::storage::{Backend, Database, StoreResult};

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

/// The webhooks with scheduled deliveries, found by skipping through the
/// `(webhook_id, next_attempt_at)` index from one webhook to the next (one
/// seek each, however long a webhook's queue): a recursive CTE.
const SCHEDULED: &str = "scheduled (webhook_id) AS (\
         SELECT (SELECT webhook_id FROM deliveries WHERE next_attempt_at IS NOT NULL \
             ORDER BY webhook_id LIMIT 1) \
         UNION ALL \
         SELECT (SELECT d.webhook_id FROM deliveries d \
             WHERE d.next_attempt_at IS NOT NULL AND d.webhook_id > s.webhook_id \
             ORDER BY d.webhook_id LIMIT 1) \
         FROM scheduled s WHERE s.webhook_id IS NOT NULL)";

/// Of the webhooks in `webhooks` (a relation of `webhook_id`s, filtered by
/// `condition`), those with deliveries due at `now` (a placeholder) that no
/// live claim holds, as [`DueWebhook`] rows: each one's oldest such
/// delivery, past the few it has in flight.
fn due_of(webhooks: &str, condition: &str, now: &str) -> String {
    format!(
        "SELECT webhook_id, account_id, max_in_flight, oldest_due FROM (\
             SELECT w.id AS webhook_id, w.account_id, w.max_in_flight, \
                 (SELECT d.next_attempt_at FROM deliveries d \
                     WHERE d.webhook_id = w.id AND d.next_attempt_at <= {now} \
                     AND (d.claimed_until IS NULL OR d.claimed_until < {now}) \
                     ORDER BY d.next_attempt_at LIMIT 1) AS oldest_due \
             FROM {webhooks} s JOIN webhooks w ON w.id = s.webhook_id WHERE {condition}) due \
         WHERE oldest_due IS NOT NULL"
    )
}

/// The webhooks with due deliveries nobody holds (`$1`: now).
fn due_webhooks() -> String {
    format!(
        "WITH RECURSIVE {SCHEDULED} {}",
        due_of("scheduled", "s.webhook_id IS NOT NULL", "$1")
    )
}

/// PostgreSQL's claim in one statement and one round trip (no
/// transaction around it), for the common case of one webhook with
/// scheduled deliveries: then its share is what `fair_shares`
/// (`outbound::delivery::fairness`) gives a lone webhook, `min(max_in_flight - in flight here, free)`, and it is
/// claimed at once, oldest first, skipping rows other workers hold. With
/// several webhooks scheduled it claims nothing and answers them as
/// [`due_webhooks`] does, for the caller to share the slots fairly and
/// claim each one's share. `$1` lease end, `$2` holder, `$3` now, `$4`
/// the worker's deliveries in flight by webhook (a JSON object), `$5` its
/// free slots. Rows: `kind` `claimed` (the [`CLAIM_COLUMNS`]) or `due`
/// (a [`DueWebhook`]).
fn claim_or_due() -> String {
    format!(
        "WITH RECURSIVE {SCHEDULED}, \
         due_webhooks AS MATERIALIZED (\
             SELECT webhook_id FROM scheduled WHERE webhook_id IS NOT NULL), \
         only_one AS (\
             SELECT w.id, GREATEST(LEAST(w.max_in_flight \
                 - COALESCE((CAST($4 AS jsonb) ->> w.id)::bigint, 0), $5), 0) AS take \
             FROM webhooks w \
             WHERE w.id = (SELECT MIN(webhook_id) FROM due_webhooks HAVING COUNT(*) = 1)), \
         claimed AS (\
             UPDATE deliveries SET claimed_until = $1, claimed_by = $2 WHERE id IN (\
                 SELECT d.id FROM deliveries d \
                 WHERE d.webhook_id = (SELECT id FROM only_one) AND d.next_attempt_at <= $3 \
                 AND (d.claimed_until IS NULL OR d.claimed_until < $3) \
                 ORDER BY d.next_attempt_at LIMIT (SELECT take FROM only_one) \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING {CLAIM_COLUMNS}) \
         SELECT 'claimed' AS kind, claimed.*, \
             NULL::bigint AS max_in_flight, NULL::bigint AS oldest_due FROM claimed \
         UNION ALL \
         SELECT 'due', NULL, account_id, webhook_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
             NULL, NULL, max_in_flight, oldest_due FROM ({}) due_webhook",
        due_of(
            "due_webhooks",
            "(SELECT COUNT(*) FROM due_webhooks) > 1",
            "$3"
        )
    )
}

/// A row of [`claim_or_due`].
enum ClaimedOrDue {
    Claimed(Box<ClaimedDelivery>),
    Due(DueWebhook),
}

impl FromDbRow for ClaimedOrDue {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        let kind: String = row.get("kind")?;
        Ok(if kind == "claimed" {
            Self::Claimed(Box::new(ClaimedDelivery::from_db_row(row)?))
        } else {
            Self::Due(DueWebhook::from_db_row(row)?)
        })
    }
}

/// What a claim asks for: `free` slots at most, shared among the webhooks
/// with due deliveries by `share` (`outbound::delivery::fairness`), which
/// must give a lone webhook `min(max_in_flight - in_flight[webhook],
/// free)`, as PostgreSQL's one-statement claim does without asking it.
pub(crate) struct ClaimRequest<S> {
    pub holder: String,
    pub now: i64,
    pub lease_until: i64,
    /// The worker's deliveries in flight, by webhook.
    pub in_flight: HashMap<String, u32>,
    pub free: usize,
    pub share: S,
}

/// Claims due deliveries that no live lease holds, for `holder` until
/// `lease_until`: `share` decides, from the webhooks with such deliveries,
/// how many to take from each (see `outbound::delivery::fairness`), and
/// each webhook's share is taken oldest first. On PostgreSQL concurrent
/// workers skip each other's rows (`FOR UPDATE SKIP LOCKED`), so a share
/// may come back short; SQLite's single writer serialises claims.
///
/// On PostgreSQL one statement finds the webhooks and, when there is one,
/// claims its share ([`claim_or_due`]): one round trip instead of four
/// (`BEGIN`, the due webhooks, the claim, `COMMIT`). With several, their
/// shares are claimed in a transaction as on SQLite, where the two
/// statements run on the writer thread, costing no round trip.
pub(crate) async fn claim_due<S>(
    db: &Database,
    request: ClaimRequest<S>,
) -> StoreResult<Vec<ClaimedDelivery>>
where
    S: FnOnce(&[DueWebhook]) -> Vec<(String, i64)> + Send + 'static,
{
    let ClaimRequest {
        holder,
        now,
        lease_until,
        in_flight,
        free,
        share,
    } = request;
    let due = match db.backend() {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let in_flight = serde_json::to_string(&in_flight).unwrap_or_else(|_| "{}".into());
            let free = i64::try_from(free).unwrap_or(i64::MAX);
            let rows: Vec<ClaimedOrDue> = sql::fetch_all(
                db.postgres_pool(),
                &claim_or_due(),
                args![lease_until, &holder, now, &in_flight, free],
            )
            .await?;
            let mut claimed = Vec::new();
            let mut due = Vec::new();
            for row in rows {
                match row {
                    ClaimedOrDue::Claimed(delivery) => claimed.push(*delivery),
                    ClaimedOrDue::Due(webhook) => due.push(webhook),
                }
            }
            if due.is_empty() {
                return Ok(claimed);
            }
            Some(due)
        }
    };
    db.write(move |tx| {
        Box::pin(async move {
            let due: Vec<DueWebhook> = match due {
                Some(due) => due,
                None => tx.fetch_all(&due_webhooks(), args![now]).await?,
            };
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
