//! What the admin reads and does with deliveries: a webhook's deliveries
//! page by page, one delivery with its attempts, resending one; and what a
//! webhook's lifecycle does to its deliveries (released when it is
//! activated, deleted with it).

use sqlx::FromRow;

use super::{AttemptLog, DeliveryStatus};
use crate::domain::time::now_micros;
use crate::storage::sql::{self, DbRow, FromDbRow, args};
use crate::storage::statement::Statement;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreError, StoreResult, corrupt_column};

/// A delivery as the admin sees it.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event_id: Option<String>,
    pub event_type: String,
    pub lead_id: Option<String>,
    pub status: DeliveryStatus,
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

/// The columns [`Delivery`] is decoded from.
pub(crate) const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, lead_id, status, \
    batch_id, attempt_count, next_attempt_at, payload_body, payload_content_type, \
    last_response_status, last_error, created_at, updated_at";

impl FromDbRow for Delivery {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        let id: String = row.get("id")?;
        let status: String = row.get("status")?;
        let status = DeliveryStatus::parse(&status)
            .map_err(|error| corrupt_column(&format!("delivery {id}"), "status", error))?;
        Ok(Self {
            webhook_id: row.get("webhook_id")?,
            event_id: row.get("event_id")?,
            event_type: row.get("event_type")?,
            lead_id: row.get("lead_id")?,
            status,
            batch_id: row.get("batch_id")?,
            attempt_count: row.get("attempt_count")?,
            next_attempt_at: row.get("next_attempt_at")?,
            payload_body: row.get("payload_body")?,
            payload_content_type: row.get("payload_content_type")?,
            last_response_status: row.get("last_response_status")?,
            last_error: row.get("last_error")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            id,
        })
    }
}

/// A page of a webhook's deliveries, newest first, optionally of one
/// status; `before` is the last id of the previous page.
pub(crate) async fn list_for_webhook(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    status: Option<DeliveryStatus>,
    before: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let select = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE account_id = ");
    let mut query = Statement::new(&select);
    query
        .push_bind(account_id)
        .push(" AND webhook_id = ")
        .push_bind(webhook_id);
    if let Some(before) = before {
        query.push(" AND id < ").push_bind(before);
    }
    if let Some(status) = status {
        // A literal (from a closed set), so that failed ones are read from
        // the partial index `deliveries_failed`: a bound value proves
        // nothing about its predicate to a generic plan, nor to SQLite.
        query.push(&format!(" AND status = '{}'", status.as_str()));
    }
    query.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    sql::fetch_all(db.reader(), query.sql(), query.args()).await
}

pub(crate) async fn get(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    delivery_id: &str,
) -> StoreResult<Delivery> {
    sql::fetch_optional(
        db.reader(),
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries \
             WHERE account_id = $1 AND webhook_id = $2 AND id = $3"
        ),
        args![account_id, webhook_id, delivery_id],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("Delivery {delivery_id} not found")))
}

/// One logged attempt.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct Attempt {
    pub id: String,
    pub attempted_at: i64,
    pub triggered_by: String,
    #[sqlx(flatten)]
    pub log: AttemptLog,
}

pub(crate) async fn attempts(db: &Database, delivery_id: &str) -> StoreResult<Vec<Attempt>> {
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
pub(crate) async fn resend(
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
pub(crate) async fn unpark(db: &Database, webhook_id: &str) -> StoreResult<u64> {
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

/// Deletes a webhook's deliveries and their logs, inside the caller's
/// transaction (deleting the webhook).
pub(crate) async fn delete_for_webhook(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    webhook_id: &str,
) -> StoreResult<()> {
    // Attempts first: SQLite only cascades when foreign keys are enforced,
    // so the delete is spelled out for both engines.
    tx.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN \
             (SELECT id FROM deliveries WHERE account_id = $1 AND webhook_id = $2)",
        args![account_id, webhook_id],
    )
    .await?;
    tx.execute(
        "DELETE FROM deliveries WHERE account_id = $1 AND webhook_id = $2",
        args![account_id, webhook_id],
    )
    .await?;
    Ok(())
}
