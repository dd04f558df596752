//! Batches: a delivery of its own (`event_type = 'batch'`) carrying the
//! messages of a batching webhook that waited under the same key
//! (`batch_id`), formed when the first of them falls due; and undoing
//! batches when the webhook's batching settings change.

use super::{
    BATCH_EVENT, CLAIM_COLUMNS, ClaimedDelivery, IN_LIST_CHUNK, RenderedPayload, skip_locked,
};
use crate::domain::ids::{IdKind, new_id};
use crate::storage::sql::{self, args};
use crate::storage::statement::Statement;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreResult};

/// Makes a batch of `first` (a claimed delivery of a batching webhook) and
/// up to `max_items - 1` more deliveries waiting under its key, oldest
/// first, whether due or not: a new batch delivery, claimed by the same
/// worker until `lease_until`, carrying them. Returns the batch and its members, or
/// `None` when `first` was batched meanwhile and nothing else waits.
pub(crate) async fn form_batch(
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
    // Members: free ones, or ones this same worker holds; `first` itself,
    // then the oldest others (read in index order: a key may have a long
    // queue behind it).
    let eligible = "webhook_id = $1 AND batch_key = $2 AND status = 'pending' \
         AND next_attempt_at IS NOT NULL \
         AND (claimed_until IS NULL OR claimed_until < $3 OR claimed_by = $4)";
    let mut members: Vec<ClaimedDelivery> = tx
        .fetch_all(
            &format!(
                "SELECT {CLAIM_COLUMNS} FROM deliveries WHERE {eligible} AND id = $5{skip_locked}"
            ),
            args![
                &first.webhook_id,
                batch_key,
                now,
                &first.claimed_by,
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
                &first.claimed_by,
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
             next_attempt_at, claimed_until, claimed_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $5, $5)",
        args![
            &batch_id,
            &first.account_id,
            &first.webhook_id,
            BATCH_EVENT,
            now,
            lease_until,
            &first.claimed_by,
        ],
    )
    .await?;
    for chunk in members.chunks(IN_LIST_CHUNK) {
        let mut carried = Statement::new("UPDATE deliveries SET status = 'batched', batch_id = ");
        carried
            .push_bind(&batch_id)
            .push(
                ", next_attempt_at = NULL, claimed_until = NULL, claimed_by = NULL, updated_at = ",
            )
            .push_bind(now)
            .push(" WHERE id IN (")
            .push_list(chunk.iter().map(|member| &member.id))
            .push(")");
        tx.execute(carried.sql(), carried.args()).await?;
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
pub(crate) async fn batch_members(
    db: &Database,
    batch_id: &str,
) -> StoreResult<Vec<ClaimedDelivery>> {
    sql::fetch_all(
        db.reader(),
        &format!("SELECT {CLAIM_COLUMNS} FROM deliveries WHERE batch_id = $1 ORDER BY id"),
        args![batch_id],
    )
    .await
}

/// Keeps each member's own rendered payload, so that one can be resent
/// alone.
pub(crate) async fn save_payloads(
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

/// Fails members of a batch on their own, each with its error (their
/// payload could not be built): each leaves the batch (so that it does not
/// take the batch's outcome), is marked failed with an attempt logged that
/// carries the error (nothing was sent), and can be resent alone. The
/// batch goes out without them.
pub(crate) async fn fail_batch_members(
    db: &Database,
    account_id: &str,
    batch_id: &str,
    triggered_by: &str,
    failed: &[(String, String)],
    now: i64,
) -> StoreResult<()> {
    let (account, batch, trigger) = (
        account_id.to_owned(),
        batch_id.to_owned(),
        triggered_by.to_owned(),
    );
    let failed = failed.to_vec();
    db.write(move |tx| {
        Box::pin(async move {
            for (member, error) in &failed {
                let left = tx
                    .execute(
                        "UPDATE deliveries SET status = 'failed', batch_id = NULL, \
                             next_attempt_at = NULL, attempt_count = attempt_count + 1, \
                             last_response_status = NULL, last_error = $1, updated_at = $2 \
                         WHERE id = $3 AND batch_id = $4",
                        args![error, now, member, &batch],
                    )
                    .await?;
                if left == 0 {
                    // Not in this batch any more (the batch was undone).
                    continue;
                }
                tx.execute(
                    "INSERT INTO delivery_attempts (id, delivery_id, account_id, attempted_at, \
                         triggered_by, duration_us, error) \
                     VALUES ($1, $2, $3, $4, $5, 0, $6)",
                    args![
                        new_id(IdKind::DeliveryAttempt),
                        member,
                        &account,
                        now,
                        &trigger,
                        error
                    ],
                )
                .await?;
            }
            Ok(())
        })
    })
    .await
}

/// After a webhook's batching settings changed: its messages waiting for a
/// batch, and those of batches not yet sent, are sent on their own instead
/// (a receiver that no longer expects arrays would not understand them).
pub(crate) async fn unbatch(tx: &mut WriteTx<'_>, webhook_id: &str, now: i64) -> StoreResult<()> {
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
