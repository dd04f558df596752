//! Creating, reading, changing and deleting webhooks at the admin's
//! request (and reading them by id for the delivery worker). Every change
//! bumps the account's webhooks version in its transaction, so that every
//! process's cached subscriptions see it at once.

use sqlx::FromRow;

use super::row::{SETTINGS_COLUMNS, WEBHOOK_COLUMNS, WebhookRow, settings_args};
use super::subscriptions::bump_version;
use super::{Webhook, webhook_not_found};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::secrets::generate_signing_secret;
use crate::domain::time::now_micros;
use crate::domain::webhook::WebhookSettings;
use crate::storage::sql::{self, Arg, args};
use crate::storage::statement::Statement;
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreError, StoreResult, deliveries};

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
