//! Outbound webhooks (subscriptions): create, read, list, update, delete,
//! activate/deactivate (by the admin or by Switchyard, with a reason),
//! regenerate the signing secret, and the active subscriptions the outbox
//! matches events against.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::FromRow;

use super::sql::{self, Arg, args};
use super::statement::Statement;
use super::versioned_cache::VersionedCache;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, corrupt_column, deliveries, fresh_version};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::secrets::generate_signing_secret;
use crate::domain::time::now_micros;
use crate::domain::webhook::{
    Batching, Conditions, EventName, PayloadFormat, Subscription, WebhookAuth, WebhookMethod,
    WebhookSettings,
};

/// A stored webhook.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: String,
    pub account_id: String,
    pub settings: WebhookSettings,
    pub signing_secret: String,
    /// Why Switchyard deactivated it (410 Gone, failing for too long).
    pub disabled_reason: Option<String>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, FromRow)]
struct WebhookRow {
    id: String,
    account_id: String,
    name: String,
    url: String,
    method: String,
    events: String,
    conditions: String,
    auth: String,
    signing_secret: String,
    send_secret_header: i64,
    send_hmac_header: i64,
    timeout_ms: i64,
    retry_schedule: String,
    max_in_flight: i64,
    payload_format: String,
    payload_config: String,
    lightweight_logs: i64,
    batch_mode: String,
    batch_wait_ms: i64,
    batch_max_items: i64,
    active: i64,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const WEBHOOK_COLUMNS: &str = "id, account_id, name, url, method, events, conditions, auth, \
    signing_secret, send_secret_header, send_hmac_header, timeout_ms, retry_schedule, \
    max_in_flight, payload_format, payload_config, lightweight_logs, batch_mode, batch_wait_ms, \
    batch_max_items, active, disabled_reason, failing_since, created_at, updated_at";

impl WebhookRow {
    /// Parses the columns back; one that does not parse is reported (see
    /// [`corrupt_column`]).
    fn into_webhook(self) -> StoreResult<Webhook> {
        let row = format!("webhook {}", self.id);
        let corrupt = |column: &str, detail: String| corrupt_column(&row, column, detail);
        let events: Vec<EventName> = serde_json::from_str(&self.events)
            .map_err(|error| corrupt("events", error.to_string()))?;
        let conditions: Conditions = serde_json::from_str(&self.conditions)
            .map_err(|error| corrupt("conditions", error.to_string()))?;
        let auth: WebhookAuth =
            serde_json::from_str(&self.auth).map_err(|error| corrupt("auth", error.to_string()))?;
        let retry_schedule: Vec<u64> = serde_json::from_str(&self.retry_schedule)
            .map_err(|error| corrupt("retry_schedule", error.to_string()))?;
        let payload_config: Value = serde_json::from_str(&self.payload_config)
            .map_err(|error| corrupt("payload_config", error.to_string()))?;
        let method =
            WebhookMethod::parse(&self.method).map_err(|error| corrupt("method", error.0))?;
        let payload_format = PayloadFormat::parse(&self.payload_format)
            .map_err(|error| corrupt("payload_format", error.0))?;
        let batching =
            Batching::from_columns(&self.batch_mode, self.batch_wait_ms, self.batch_max_items)
                .map_err(|error| {
                    corrupt("batch_mode, batch_wait_ms or batch_max_items", error.0)
                })?;
        let max_in_flight = u32::try_from(self.max_in_flight).map_err(|_| {
            corrupt(
                "max_in_flight",
                format!("{} is out of range", self.max_in_flight),
            )
        })?;
        let timeout = u64::try_from(self.timeout_ms)
            .map(Duration::from_millis)
            .map_err(|_| corrupt("timeout_ms", format!("{} is negative", self.timeout_ms)))?;
        Ok(Webhook {
            settings: WebhookSettings {
                name: self.name,
                url: self.url,
                method,
                events,
                conditions,
                auth,
                send_secret_header: self.send_secret_header != 0,
                send_hmac_header: self.send_hmac_header != 0,
                timeout,
                retry_schedule,
                max_in_flight,
                payload_format,
                payload_config,
                lightweight_logs: self.lightweight_logs != 0,
                batching,
                active: self.active != 0,
            },
            id: self.id,
            account_id: self.account_id,
            signing_secret: self.signing_secret,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The settings as column values, in the order of [`SETTINGS_COLUMNS`].
fn settings_args(settings: &WebhookSettings) -> Vec<Arg<'static>> {
    let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "null".into());
    vec![
        Arg::from(settings.name.clone()),
        Arg::from(settings.url.clone()),
        Arg::from(settings.method.as_str()),
        Arg::from(json(serde_json::to_string(&settings.events))),
        Arg::from(json(serde_json::to_string(&settings.conditions))),
        Arg::from(json(serde_json::to_string(&settings.auth))),
        Arg::from(i64::from(settings.send_secret_header)),
        Arg::from(i64::from(settings.send_hmac_header)),
        Arg::from(i64::try_from(settings.timeout.as_millis()).unwrap_or(i64::MAX)),
        Arg::from(json(serde_json::to_string(&settings.retry_schedule))),
        Arg::from(i64::from(settings.max_in_flight)),
        Arg::from(settings.payload_format.as_str().to_owned()),
        Arg::from(settings.payload_config.to_string()),
        Arg::from(i64::from(settings.lightweight_logs)),
        Arg::from(settings.batching.mode.as_str()),
        Arg::from(i64::try_from(settings.batching.wait.as_millis()).unwrap_or(i64::MAX)),
        Arg::from(i64::from(settings.batching.max_items)),
        Arg::from(i64::from(settings.active)),
    ]
}

const SETTINGS_COLUMNS: [&str; 18] = [
    "name",
    "url",
    "method",
    "events",
    "conditions",
    "auth",
    "send_secret_header",
    "send_hmac_header",
    "timeout_ms",
    "retry_schedule",
    "max_in_flight",
    "payload_format",
    "payload_config",
    "lightweight_logs",
    "batch_mode",
    "batch_wait_ms",
    "batch_max_items",
    "active",
];

pub(crate) async fn create(
    db: &Database,
    account_id: &str,
    settings: &WebhookSettings,
) -> StoreResult<Webhook> {
    let id = new_id(IdKind::Webhook);
    let now = now_micros();
    let mut insert = Statement::new(&format!(
        "INSERT INTO webhooks (id, account_id, signing_secret, created_at, updated_at, {}) VALUES (",
        SETTINGS_COLUMNS.join(", ")
    ));
    insert
        .push_list([
            Arg::from(id.clone()),
            Arg::from(account_id.to_owned()),
            Arg::from(generate_signing_secret()),
            Arg::from(now),
            Arg::from(now),
        ])
        .push(", ")
        .push_list(settings_args(settings))
        .push(")");
    let account = account_id.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            bump_version(tx, &account).await?;
            tx.execute(insert.sql(), insert.args()).await?;
            Ok::<_, StoreError>(())
        })
    })
    .await?;
    get(db, account_id, &id).await
}

pub(crate) async fn list(db: &Database, account_id: &str) -> StoreResult<Vec<Webhook>> {
    sqlx::query_as::<_, WebhookRow>(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(db.reader())
    .await?
    .into_iter()
    .map(WebhookRow::into_webhook)
    .collect()
}

pub(crate) async fn get(db: &Database, account_id: &str, webhook_id: &str) -> StoreResult<Webhook> {
    sqlx::query_as::<_, WebhookRow>(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE account_id = $1 AND id = $2"
    ))
    .bind(account_id)
    .bind(webhook_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| webhook_not_found(webhook_id))?
    .into_webhook()
}

/// Webhooks by id, whatever their account (for the delivery worker).
pub(crate) async fn get_many(db: &Database, webhook_ids: &[&str]) -> StoreResult<Vec<Webhook>> {
    let mut webhooks = Vec::with_capacity(webhook_ids.len());
    for chunk in webhook_ids.chunks(500) {
        let mut query = Statement::new(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id IN ("
        ));
        query.push_list(chunk.iter().copied()).push(")");
        let rows = sql::bind_all(sqlx::query(query.sql()), query.args())
            .try_map(|row: sqlx::any::AnyRow| WebhookRow::from_row(&row))
            .fetch_all(db.reader())
            .await?;
        for row in rows {
            webhooks.push(row.into_webhook()?);
        }
    }
    Ok(webhooks)
}

/// Replaces the settings. Re-activating clears the reason Switchyard
/// deactivated it and its run of failures.
pub(crate) async fn update(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    settings: &WebhookSettings,
) -> StoreResult<Webhook> {
    let mut update = Statement::new("UPDATE webhooks SET ");
    for (column, value) in SETTINGS_COLUMNS.iter().zip(settings_args(settings)) {
        update.push(column).push(" = ").push_bind(value).push(", ");
    }
    update.push("updated_at = ").push_bind(now_micros());
    // Only a webhook that was inactive starts afresh: editing an active
    // one keeps its run of failures.
    if settings.active {
        update.push(
            ", disabled_reason = CASE WHEN active = 0 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN active = 0 THEN NULL ELSE failing_since END",
        );
    }
    update
        .push(" WHERE account_id = ")
        .push_bind(account_id.to_owned())
        .push(" AND id = ")
        .push_bind(webhook_id.to_owned());
    let (account, webhook) = (account_id.to_owned(), webhook_id.to_owned());
    let new_shape = (
        settings.batching.mode.as_str(),
        settings.method.as_str(),
        settings.payload_format.as_str().to_owned(),
    );
    db.write(move |tx| {
        Box::pin(async move {
            bump_version(tx, &account).await?;
            let before: Option<(String, String, String)> = tx
                .fetch_optional(
                    "SELECT batch_mode, method, payload_format FROM webhooks \
                     WHERE account_id = $1 AND id = $2",
                    args![&account, &webhook],
                )
                .await?;
            let Some((mode, method, format)) = before else {
                return Err(webhook_not_found(&webhook));
            };
            tx.execute(update.sql(), update.args()).await?;
            let (new_mode, new_method, new_format) = new_shape;
            let batching_changed = mode != new_mode || method != new_method || format != new_format;
            if batching_changed {
                deliveries::unbatch(tx, &webhook, now_micros()).await?;
            }
            Ok(())
        })
    })
    .await?;
    if settings.active {
        deliveries::unpark(db, webhook_id).await?;
    }
    get(db, account_id, webhook_id).await
}

/// Activates or deactivates at the admin's request.
pub(crate) async fn set_active(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
    active: bool,
) -> StoreResult<Webhook> {
    let sql = if active {
        "UPDATE webhooks SET active = 1, disabled_reason = NULL, failing_since = NULL, \
             updated_at = $1 WHERE account_id = $2 AND id = $3"
    } else {
        "UPDATE webhooks SET active = 0, updated_at = $1 WHERE account_id = $2 AND id = $3"
    };
    let (account, webhook) = (account_id.to_owned(), webhook_id.to_owned());
    db.write(move |tx| {
        Box::pin(async move {
            bump_version(tx, &account).await?;
            let updated = tx
                .execute(sql, args![now_micros(), &account, &webhook])
                .await?;
            if updated == 0 {
                return Err(webhook_not_found(&webhook));
            }
            Ok(())
        })
    })
    .await?;
    if active {
        // Deliveries that waited while it was inactive go out now.
        deliveries::unpark(db, webhook_id).await?;
    }
    get(db, account_id, webhook_id).await
}

pub(crate) async fn regenerate_secret(
    db: &Database,
    account_id: &str,
    webhook_id: &str,
) -> StoreResult<Webhook> {
    let (account, webhook) = (account_id.to_owned(), webhook_id.to_owned());
    let secret = generate_signing_secret();
    db.write(move |tx| {
        Box::pin(async move {
            let updated = tx
                .execute(
                    "UPDATE webhooks SET signing_secret = $1, updated_at = $2 \
                     WHERE account_id = $3 AND id = $4",
                    args![&secret, now_micros(), &account, &webhook],
                )
                .await?;
            if updated == 0 {
                return Err(webhook_not_found(&webhook));
            }
            Ok(())
        })
    })
    .await?;
    get(db, account_id, webhook_id).await
}

/// Deletes a webhook with its deliveries and their logs.
pub(crate) async fn delete(db: &Database, account_id: &str, webhook_id: &str) -> StoreResult<()> {
    let (account, webhook) = (account_id.to_owned(), webhook_id.to_owned());
    db.write(move |tx| Box::pin(async move { remove(tx, &account, &webhook).await }))
        .await
}

/// The work of [`delete`], inside the caller's transaction.
async fn remove(tx: &mut WriteTx<'_>, account_id: &str, webhook_id: &str) -> StoreResult<()> {
    // The account first, as every writer of webhooks and of deliveries
    // takes them, so that none can deadlock with another.
    bump_version(tx, account_id).await?;
    deliveries::delete_for_webhook(tx, account_id, webhook_id).await?;
    let deleted = tx
        .execute(
            "DELETE FROM webhooks WHERE account_id = $1 AND id = $2",
            args![account_id, webhook_id],
        )
        .await?;
    if deleted == 0 {
        return Err(webhook_not_found(webhook_id));
    }
    Ok(())
}

/// The webhooks of an account that use an uploaded plugin as their
/// payload format, as `"name" (id)`.
pub(crate) async fn using_plugin(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    plugin_id: &str,
) -> StoreResult<Vec<String>> {
    let users: Vec<(String, String)> = tx
        .fetch_all(
            "SELECT id, name FROM webhooks WHERE account_id = $1 AND payload_format = $2 ORDER BY id",
            args![account_id, plugin_id],
        )
        .await?;
    Ok(users
        .into_iter()
        .map(|(id, name)| format!("\"{name}\" ({id})"))
        .collect())
}

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
pub(super) async fn bump_version(tx: &mut WriteTx<'_>, account_id: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE accounts SET webhooks_version = $2 WHERE id = $1",
        args![account_id, fresh_version()],
    )
    .await?;
    Ok(())
}

pub(crate) fn webhook_not_found(webhook_id: &str) -> StoreError {
    StoreError::NotFound(format!("Webhook {webhook_id} not found"))
}
