//! Deliveries and their attempts: claiming due deliveries with a lease
//! (so a process that dies holding some has them picked up once the lease
//! runs out), recording attempt results in batches, listing and reading
//! them for the admin, resending, and purging old logs.

use std::collections::HashMap;

use sqlx::FromRow;

use super::sql::{self, Arg, DbRow, FromDbRow, args};
use super::write_tx::WriteTx;
use super::{Backend, Database, StoreError, StoreResult, params};
use crate::domain::ids::{IdKind, id_floor, new_id};
use crate::domain::time::now_micros;

/// Delivery states.
pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
/// Carried by a batch (a delivery of its own), whose outcome it takes.
pub const BATCHED: &str = "batched";
/// The event type of a batch delivery.
pub const BATCH_EVENT: &str = "batch";

/// A delivery a worker has claimed.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub account_id: String,
    pub webhook_id: String,
    /// `None` for a batch.
    pub event_id: Option<String>,
    pub event_type: String,
    pub lead_id: Option<String>,
    pub attempt_count: i64,
    pub next_trigger: String,
    /// Set for deliveries of a batching webhook, until they join a batch.
    pub batch_key: Option<String>,
    pub payload_body: Option<String>,
    pub payload_content_type: Option<String>,
    /// JSON object.
    pub payload_headers: Option<String>,
    pub created_at: i64,
    /// The lease this claim holds; results are recorded only while the
    /// delivery is still held by it (0 when read unclaimed).
    pub claimed_until: i64,
}

const CLAIM_COLUMNS: &str = "id, account_id, webhook_id, event_id, event_type, lead_id, \
    attempt_count, next_trigger, batch_key, payload_body, payload_content_type, payload_headers, \
    created_at, COALESCE(claimed_until, 0) AS claimed_until";

impl ClaimedDelivery {
    pub fn is_batch(&self) -> bool {
        self.event_type == BATCH_EVENT
    }
}

impl FromDbRow for ClaimedDelivery {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        Ok(Self {
            id: row.get("id")?,
            account_id: row.get("account_id")?,
            webhook_id: row.get("webhook_id")?,
            event_id: row.get("event_id")?,
            event_type: row.get("event_type")?,
            lead_id: row.get("lead_id")?,
            attempt_count: row.get("attempt_count")?,
            next_trigger: row.get("next_trigger")?,
            batch_key: row.get("batch_key")?,
            payload_body: row.get("payload_body")?,
            payload_content_type: row.get("payload_content_type")?,
            payload_headers: row.get("payload_headers")?,
            created_at: row.get("created_at")?,
            claimed_until: row.get("claimed_until")?,
        })
    }
}

/// The clause with which claims skip the rows other workers hold
/// (PostgreSQL); SQLite's single writer serialises claims.
fn skip_locked(tx: &WriteTx<'_>) -> &'static str {
    match tx.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

/// Makes a batch of `first` (a claimed delivery of a batching webhook) and
/// up to `max_items - 1` more deliveries waiting under its key, oldest
/// first, whether due or not: a new batch delivery, claimed until
/// `lease_until`, carrying them. Returns the batch and its members, or
/// `None` when `first` was batched meanwhile and nothing else waits.
pub async fn form_batch(
    db: &Database,
    first: &ClaimedDelivery,
    max_items: u32,
    lease_until: i64,
    now: i64,
) -> StoreResult<Option<(ClaimedDelivery, Vec<ClaimedDelivery>)>> {
    let first = first.clone();
    db.write(move |tx| {
        Box::pin(async move { make_batch(tx, &first, max_items, lease_until, now).await })
    })
    .await
}

/// The work of [`form_batch`], inside the caller's transaction.
async fn make_batch(
    tx: &mut WriteTx<'_>,
    first: &ClaimedDelivery,
    max_items: u32,
    lease_until: i64,
    now: i64,
) -> StoreResult<Option<(ClaimedDelivery, Vec<ClaimedDelivery>)>> {
    let skip_locked = skip_locked(tx);
    let batch_key = first.batch_key.as_deref().unwrap_or_default();
    // Members: free ones, or ones this same claim holds; `first` itself,
    // then the oldest others (read in index order: a key may have a long
    // queue behind it).
    let eligible = "webhook_id = $1 AND batch_key = $2 AND status = 'pending' \
         AND next_attempt_at IS NOT NULL \
         AND (claimed_until IS NULL OR claimed_until < $3 OR claimed_until = $4)";
    let mut members: Vec<ClaimedDelivery> = tx
        .fetch_all(
            &format!(
                "SELECT {CLAIM_COLUMNS} FROM deliveries WHERE {eligible} AND id = $5{skip_locked}"
            ),
            args![
                &first.webhook_id,
                batch_key,
                now,
                first.claimed_until,
                &first.id
            ],
        )
        .await?;
    let others = i64::from(max_items.max(1)) - i64::try_from(members.len()).unwrap_or(0);
    members.extend(
        tx.fetch_all::<ClaimedDelivery>(
            &format!(
                "SELECT {CLAIM_COLUMNS} FROM deliveries WHERE {eligible} AND id <> $5 \
                 ORDER BY id LIMIT $6{skip_locked}"
            ),
            args![
                &first.webhook_id,
                batch_key,
                now,
                first.claimed_until,
                &first.id,
                others,
            ],
        )
        .await?,
    );
    if members.is_empty() {
        return Ok(None);
    }
    let batch_id = new_id(IdKind::Delivery);
    tx.execute(
        "INSERT INTO deliveries (id, account_id, webhook_id, event_type, status, \
             next_attempt_at, claimed_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $5, $5)",
        args![
            &batch_id,
            &first.account_id,
            &first.webhook_id,
            BATCH_EVENT,
            now,
            lease_until,
        ],
    )
    .await?;
    for chunk in members.chunks(500) {
        let sql = format!(
            "UPDATE deliveries SET status = 'batched', batch_id = $1, next_attempt_at = NULL, \
                 claimed_until = NULL, updated_at = $2 WHERE id IN ({})",
            params(3, chunk.len())
        );
        let mut binds = Vec::with_capacity(2 + chunk.len());
        binds.extend([Arg::from(&batch_id), Arg::from(now)]);
        binds.extend(chunk.iter().map(|member| Arg::from(&member.id)));
        tx.execute(&sql, &binds).await?;
    }
    let batch: ClaimedDelivery = tx
        .fetch_one(
            &format!("SELECT {CLAIM_COLUMNS} FROM deliveries WHERE id = $1"),
            args![&batch_id],
        )
        .await?;
    Ok(Some((batch, members)))
}

/// The deliveries a batch carries, oldest first.
pub async fn batch_members(db: &Database, batch_id: &str) -> StoreResult<Vec<ClaimedDelivery>> {
    sql::fetch_all(
        db.reader(),
        &format!("SELECT {CLAIM_COLUMNS} FROM deliveries WHERE batch_id = $1 ORDER BY id"),
        args![batch_id],
    )
    .await
}

/// Keeps each member's own rendered payload, so that one can be resent
/// alone.
pub async fn save_payloads(
    db: &Database,
    payloads: &[(String, RenderedPayload)],
) -> StoreResult<()> {
    if payloads.is_empty() {
        return Ok(());
    }
    let payloads = payloads.to_vec();
    db.write(move |tx| {
        Box::pin(async move {
            for (id, payload) in &payloads {
                tx.execute(
                    "UPDATE deliveries SET payload_body = $1, payload_content_type = $2, \
                         payload_headers = $3 \
                     WHERE id = $4",
                    args![&payload.body, &payload.content_type, &payload.headers, id],
                )
                .await?;
            }
            Ok(())
        })
    })
    .await
}

/// Claims up to `limit` deliveries that are due and not held by a live
/// lease, until `lease_until`. On PostgreSQL concurrent workers skip each
/// other's rows (`FOR UPDATE SKIP LOCKED`); SQLite's single writer
/// serialises claims.
pub async fn claim_due(
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
pub async fn release(db: &Database, claimed: &[ClaimedDelivery]) -> StoreResult<()> {
    if claimed.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = claimed.iter().map(|delivery| delivery.id.clone()).collect();
    db.write(move |tx| {
        Box::pin(async move {
            for chunk in ids.chunks(500) {
                let sql = format!(
                    "UPDATE deliveries SET claimed_until = NULL WHERE id IN ({})",
                    params(1, chunk.len())
                );
                let binds: Vec<Arg> = chunk.iter().map(Arg::from).collect();
                tx.execute(&sql, &binds).await?;
            }
            Ok(())
        })
    })
    .await
}

/// Releases every delivery held under these leases (a worker shutting
/// down with deliveries still in flight).
pub async fn release_leases(db: &Database, leases: &[i64]) -> StoreResult<()> {
    if leases.is_empty() {
        return Ok(());
    }
    let leases = leases.to_vec();
    db.write(move |tx| {
        Box::pin(async move {
            for chunk in leases.chunks(500) {
                let sql = format!(
                    "UPDATE deliveries SET claimed_until = NULL WHERE claimed_until IN ({})",
                    params(1, chunk.len())
                );
                let binds: Vec<Arg> = chunk.iter().map(|lease| Arg::from(*lease)).collect();
                tx.execute(&sql, &binds).await?;
            }
            Ok(())
        })
    })
    .await
}

/// A lead event as the outbox stored it.
#[derive(Debug, Clone, FromRow)]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    pub lead_id: String,
    pub actor_type: String,
    pub actor_id: String,
    pub actor_name: String,
    /// JSON: the stage ids and, when a delivery was made, the lead snapshot.
    pub data: String,
    pub occurred_at: i64,
}

pub async fn events_by_id(
    db: &Database,
    event_ids: &[&str],
) -> StoreResult<HashMap<String, StoredEvent>> {
    let mut events = HashMap::with_capacity(event_ids.len());
    for chunk in event_ids.chunks(500) {
        let sql = format!(
            "SELECT id, event_type, lead_id, actor_type, actor_id, actor_name, data, occurred_at \
             FROM lead_events WHERE id IN ({})",
            params(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, StoredEvent>(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for event in query.fetch_all(db.reader()).await? {
            events.insert(event.id.clone(), event);
        }
    }
    Ok(events)
}

/// What one attempt sent and got back, as the log keeps it.
#[derive(Debug, Clone, Default, FromRow)]
pub struct AttemptLog {
    pub url: Option<String>,
    pub method: Option<String>,
    /// JSON object, secrets redacted.
    pub request_headers: Option<String>,
    pub request_body: Option<String>,
    pub response_status: Option<i64>,
    /// JSON object.
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub duration_us: i64,
    pub error: Option<String>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    Succeeded,
    /// Try again at this time (µs).
    RetryAt(i64),
    /// Give up.
    Failed,
    /// Not attempted: the webhook is inactive. The delivery waits, due
    /// again when the webhook is activated.
    Parked,
}

/// A payload rendered for the first time, kept for retries and resends.
#[derive(Debug, Clone)]
pub struct RenderedPayload {
    pub body: String,
    pub content_type: String,
    /// JSON object.
    pub headers: String,
}

/// One finished attempt, to record.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub delivery_id: String,
    pub account_id: String,
    pub webhook_id: String,
    pub attempted_at: i64,
    pub triggered_by: String,
    pub log: AttemptLog,
    pub outcome: AttemptOutcome,
    pub rendered: Option<RenderedPayload>,
    /// The claim the attempt was made under ([`ClaimedDelivery::claimed_until`]).
    pub claim: i64,
    /// Drop the stored payload once the delivery is finished (lightweight
    /// logs keep no bodies).
    pub forget_payload: bool,
    /// The delivery is a batch: its members take its final status.
    pub is_batch: bool,
}

impl AttemptResult {
    /// The same result with only status, duration and error in its log:
    /// what is still recorded when the full log cannot be.
    fn minimal(&self) -> Self {
        Self {
            log: AttemptLog {
                response_status: self.log.response_status,
                duration_us: self.log.duration_us,
                error: self.log.error.clone(),
                ..AttemptLog::default()
            },
            rendered: None,
            ..self.clone()
        }
    }
}

/// Records attempts (many per transaction) and moves their deliveries on:
/// done, retry later, failed, or parked. If the batch cannot be written,
/// each result is written on its own (and, failing that, with a minimal
/// log), so one bad result cannot hold back the others.
pub async fn record_results(db: &Database, results: &[AttemptResult]) -> StoreResult<()> {
    let Err(error) = record_batch(db, results).await else {
        return Ok(());
    };
    if results.len() == 1 {
        tracing::warn!(%error, delivery = %results[0].delivery_id, "cannot record the attempt log; recording a minimal one");
        return record_batch(db, &[results[0].minimal()]).await;
    }
    tracing::warn!(%error, count = results.len(), "cannot record a batch of attempts; recording them one by one");
    for result in results {
        if let Err(error) = record_batch(db, std::slice::from_ref(result)).await {
            tracing::warn!(%error, delivery = %result.delivery_id, "cannot record the attempt log; recording a minimal one");
            if let Err(error) = record_batch(db, &[result.minimal()]).await {
                // The delivery was deleted with its webhook, or the
                // database is down: its lease runs out and it is retried.
                tracing::error!(%error, delivery = %result.delivery_id, "cannot record the attempt");
            }
        }
    }
    Ok(())
}

async fn record_batch(db: &Database, results: &[AttemptResult]) -> StoreResult<()> {
    if results.is_empty() {
        return Ok(());
    }
    let now = now_micros();
    let results = results.to_vec();
    db.write(move |tx| Box::pin(async move { write_results(tx, &results, now).await }))
        .await
}

/// The work of [`record_batch`], inside the caller's transaction.
async fn write_results(
    tx: &mut WriteTx<'_>,
    results: &[AttemptResult],
    now: i64,
) -> StoreResult<()> {
    let attempted: Vec<&AttemptResult> = results
        .iter()
        .filter(|result| result.outcome != AttemptOutcome::Parked)
        .collect();
    for chunk in attempted.chunks(50) {
        const COLUMNS: usize = 14;
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| format!("({})", params(1 + row * COLUMNS, COLUMNS)))
            .collect();
        let sql = format!(
            "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempted_at, \
                 triggered_by, url, method, request_headers, request_body, response_status, \
                 response_headers, response_body, duration_us, error) VALUES {}",
            rows.join(", ")
        );
        let mut binds = Vec::with_capacity(chunk.len() * COLUMNS);
        for result in chunk {
            let log = &result.log;
            binds.extend([
                Arg::from(new_id(IdKind::DeliveryAttempt)),
                Arg::from(&result.delivery_id),
                Arg::from(&result.account_id),
                Arg::from(result.attempted_at),
                Arg::from(&result.triggered_by),
                Arg::from(&log.url),
                Arg::from(&log.method),
                Arg::from(&log.request_headers),
                Arg::from(&log.request_body),
                Arg::from(log.response_status),
                Arg::from(&log.response_headers),
                Arg::from(&log.response_body),
                Arg::from(log.duration_us),
                Arg::from(&log.error),
            ]);
        }
        tx.execute(&sql, &binds).await?;
    }
    for result in results {
        let (status, next_attempt_at, counted) = match result.outcome {
            AttemptOutcome::Succeeded => (SUCCEEDED, None, 1_i64),
            AttemptOutcome::RetryAt(at) => (PENDING, Some(at), 1),
            AttemptOutcome::Failed => (FAILED, None, 1),
            AttemptOutcome::Parked => (PENDING, None, 0),
        };
        let finished = matches!(
            result.outcome,
            AttemptOutcome::Succeeded | AttemptOutcome::Failed
        );
        let forget = i64::from(finished && result.forget_payload);
        let rendered = result.rendered.as_ref();
        // Only while this claim still holds the delivery: after a resend or
        // an expired lease, another attempt owns it.
        let recorded = tx
            .execute(
                "UPDATE deliveries SET status = $1, next_attempt_at = $2, claimed_until = NULL, \
                     attempt_count = attempt_count + $3, next_trigger = 'scheduled', \
                     last_response_status = $4, last_error = $5, updated_at = $6, \
                     payload_body = CASE WHEN $7 = 1 THEN NULL ELSE COALESCE($8, payload_body) END, \
                     payload_content_type = COALESCE($9, payload_content_type), \
                     payload_headers = COALESCE($10, payload_headers) \
                 WHERE id = $11 AND claimed_until = $12",
                args![
                    status,
                    next_attempt_at,
                    counted,
                    result.log.response_status,
                    &result.log.error,
                    now,
                    forget,
                    rendered.map(|payload| payload.body.as_str()),
                    rendered.map(|payload| payload.content_type.as_str()),
                    rendered.map(|payload| payload.headers.as_str()),
                    &result.delivery_id,
                    result.claim,
                ],
            )
            .await?;
        if finished && result.is_batch && recorded == 1 {
            // The messages a batch carried share its outcome (and, with
            // lightweight logs, lose their bodies with it).
            tx.execute(
                "UPDATE deliveries SET status = $1, updated_at = $2, \
                     payload_body = CASE WHEN $3 = 1 THEN NULL ELSE payload_body END \
                 WHERE batch_id = $4",
                args![status, now, forget, &result.delivery_id],
            )
            .await?;
        }
    }
    // Each webhook's run of failures, by its latest attempt in the batch.
    let mut latest: Vec<(&str, bool)> = Vec::new();
    for result in &attempted {
        let succeeded = result.outcome == AttemptOutcome::Succeeded;
        match latest.iter_mut().find(|(id, _)| *id == result.webhook_id) {
            Some(entry) => entry.1 = succeeded,
            None => latest.push((&result.webhook_id, succeeded)),
        }
    }
    let succeeded: Vec<&str> = latest
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(id, _)| *id)
        .collect();
    let failing: Vec<&str> = latest
        .iter()
        .filter(|(_, ok)| !*ok)
        .map(|(id, _)| *id)
        .collect();
    set_failing(tx, &succeeded, None).await?;
    set_failing(tx, &failing, Some(now)).await?;
    Ok(())
}

/// Clears (`since` = None) or starts (keeping an earlier start) the run of
/// failures of these webhooks.
async fn set_failing(
    tx: &mut WriteTx<'_>,
    webhook_ids: &[&str],
    since: Option<i64>,
) -> StoreResult<()> {
    for chunk in webhook_ids.chunks(200) {
        let first = if since.is_some() { 2 } else { 1 };
        let sql = match since {
            None => format!(
                "UPDATE webhooks SET failing_since = NULL \
                 WHERE failing_since IS NOT NULL AND id IN ({})",
                params(first, chunk.len())
            ),
            Some(_) => format!(
                "UPDATE webhooks SET failing_since = $1 \
                 WHERE failing_since IS NULL AND id IN ({})",
                params(first, chunk.len())
            ),
        };
        let mut binds = Vec::with_capacity(1 + chunk.len());
        if let Some(since) = since {
            binds.push(Arg::from(since));
        }
        binds.extend(chunk.iter().map(|id| Arg::from(*id)));
        tx.execute(&sql, &binds).await?;
    }
    Ok(())
}

/// Deactivates webhooks whose every attempt has failed since before
/// `cutoff`, recording why; returns their ids.
pub async fn disable_long_failing(
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
                    super::webhooks::bump_version(tx, &account_id).await?;
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

/// After a webhook's batching settings changed: its messages waiting for a
/// batch, and those of batches not yet sent, are sent on their own instead
/// (a receiver that no longer expects arrays would not understand them).
pub async fn unbatch(tx: &mut WriteTx<'_>, webhook_id: &str, now: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE deliveries SET status = 'pending', batch_id = NULL, batch_key = NULL, \
             next_attempt_at = $1, updated_at = $1 \
         WHERE batch_id IN (SELECT id FROM deliveries \
             WHERE webhook_id = $2 AND event_type = 'batch' AND status = 'pending')",
        args![now, webhook_id],
    )
    .await?;
    tx.execute(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = $1, \
             last_error = 'not sent: the batching settings changed, so its messages are sent on their own' \
         WHERE webhook_id = $2 AND event_type = 'batch' AND status = 'pending'",
        args![now, webhook_id],
    )
    .await?;
    tx.execute(
        "UPDATE deliveries SET batch_key = NULL, updated_at = $1, \
             next_attempt_at = CASE WHEN next_attempt_at IS NULL THEN NULL ELSE $1 END \
         WHERE webhook_id = $2 AND status = 'pending' AND batch_key IS NOT NULL",
        args![now, webhook_id],
    )
    .await?;
    Ok(())
}

/// A delivery as the admin sees it.
#[derive(Debug, Clone, FromRow)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub lead_id: Option<String>,
    pub status: String,
    pub batch_id: Option<String>,
    pub attempt_count: i64,
    pub next_attempt_at: Option<i64>,
    pub payload_body: Option<String>,
    pub payload_content_type: Option<String>,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, lead_id, status, batch_id, \
    attempt_count, next_attempt_at, payload_body, payload_content_type, last_response_status, \
    last_error, created_at, updated_at";

/// A page of a webhook's deliveries, newest first, optionally of one
/// status; `before` is the last id of the previous page.
pub async fn list_for_webhook(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let status_filter = if status.is_some() {
        " AND status = $5"
    } else {
        ""
    };
    let before_filter = if before.is_some() { " AND id < $4" } else { "" };
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries \
         WHERE account_id = $1 AND webhook_id = $2{before_filter}{status_filter} \
         ORDER BY id DESC LIMIT $3"
    );
    let deliveries = sqlx::query_as::<_, Delivery>(&sql)
        .bind(account_id)
        .bind(webhook_id)
        .bind(limit)
        .bind(before.unwrap_or(""))
        .bind(status.unwrap_or(""))
        .fetch_all(db.reader())
        .await?;
    Ok(deliveries)
}

pub async fn get(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    delivery_id: &str,
) -> StoreResult<Delivery> {
    sqlx::query_as::<_, Delivery>(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries \
         WHERE account_id = $1 AND webhook_id = $2 AND id = $3"
    ))
    .bind(account_id)
    .bind(webhook_id)
    .bind(delivery_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("Delivery {delivery_id} not found")))
}

/// One logged attempt.
#[derive(Debug, Clone, FromRow)]
pub struct Attempt {
    pub id: String,
    pub attempted_at: i64,
    pub triggered_by: String,
    #[sqlx(flatten)]
    pub log: AttemptLog,
}

pub async fn attempts(db: &Database, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
    Ok(sqlx::query_as::<_, Attempt>(
        "SELECT id, attempted_at, triggered_by, url, method, request_headers, request_body, \
             response_status, response_headers, response_body, duration_us, error \
         FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempted_at, id",
    )
    .bind(delivery_id)
    .fetch_all(db.reader())
    .await?)
}

/// Queues a delivery for one more attempt now, under the same message id,
/// with a fresh retry schedule. Refused while an attempt is in flight.
pub async fn resend(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    delivery_id: &str,
) -> StoreResult<Delivery> {
    let now = now_micros();
    let (account, webhook, delivery) = (
        account_id.to_owned(),
        webhook_id.to_owned(),
        delivery_id.to_owned(),
    );
    let updated = db
        .write(move |tx| {
            Box::pin(async move {
                let updated = tx
                    .execute(
                        "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, \
                             attempt_count = 0, next_trigger = 'resend', updated_at = $1, \
                             batch_key = NULL, batch_id = NULL \
                         WHERE account_id = $2 AND webhook_id = $3 AND id = $4 \
                             AND (claimed_until IS NULL OR claimed_until < $1)",
                        args![now, &account, &webhook, &delivery],
                    )
                    .await?;
                tx.deliveries_enqueued(usize::try_from(updated).unwrap_or(usize::MAX));
                Ok::<_, StoreError>(updated)
            })
        })
        .await?;
    if updated == 0 {
        // Either it does not exist, or an attempt holds it right now.
        get(db, account_id, webhook_id, delivery_id).await?;
        return Err(StoreError::Conflict(format!(
            "Delivery {delivery_id} is being sent right now; resend it once this attempt is logged"
        )));
    }
    get(db, account_id, webhook_id, delivery_id).await
}

/// Makes a webhook's parked deliveries (waiting while it was inactive) due
/// now.
pub async fn unpark(db: &Database, webhook_id: &str) -> StoreResult<u64> {
    let now = now_micros();
    let webhook = webhook_id.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            let unparked = tx
                .execute(
                    "UPDATE deliveries SET next_attempt_at = $1, updated_at = $1 \
                     WHERE webhook_id = $2 AND status = 'pending' AND next_attempt_at IS NULL",
                    args![now, &webhook],
                )
                .await?;
            tx.deliveries_enqueued(usize::try_from(unparked).unwrap_or(usize::MAX));
            Ok(unparked)
        })
    })
    .await
}

/// Rows one purge statement deletes at most, so that purging never holds
/// the writer (SQLite's only one) for long.
const PURGE_BATCH: i64 = 1_000;

/// Deletes, a bounded batch at a time, attempts older than `cutoff`,
/// finished deliveries last touched before it that have no attempts left,
/// and lead events no delivery refers to. Returns the rows deleted.
pub async fn purge_before(db: &Database, cutoff: i64) -> StoreResult<u64> {
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
