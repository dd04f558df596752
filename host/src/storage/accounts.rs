//! Accounts and their admin API keys: creation (from the CLI and on first
//! start) and key lookup for authentication.

use sqlx::Row;

use super::{Database, StoreResult, is_unique_violation};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::secrets;
use crate::domain::time::now_micros;

/// Prefix of admin API keys, so a leaked key is recognisable in a scan.
const API_KEY_PREFIX: &str = "sy_admin";

/// A new account and its first admin API key, in plain text. The key is not
/// stored and cannot be shown again.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub account_id: String,
    pub name: String,
    pub api_key: String,
}

/// The account (and key) an admin API key belongs to.
#[derive(Debug, Clone)]
pub struct ApiKeyOwner {
    pub account_id: String,
    pub key_id: String,
    pub key_name: String,
}

/// Creates an account with one admin API key.
pub async fn create_account(db: &Database, name: &str) -> StoreResult<CreatedAccount> {
    let mut tx = db.begin().await?;
    let created = insert_account(&mut tx, name).await?;
    tx.commit().await?;
    Ok(created)
}

/// On the first start against an empty database, creates the account
/// `default` and returns it with its key; otherwise returns `None`. Safe when
/// several processes start at once: exactly one of them creates it.
pub async fn create_default_account_on_first_start(
    db: &Database,
) -> StoreResult<Option<CreatedAccount>> {
    let mut tx = db.begin().await?;
    let existing: i64 = sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if existing > 0 {
        return Ok(None);
    }
    let created = insert_account(&mut tx, "default").await?;
    let claimed =
        sqlx::query("INSERT INTO first_start (id, account_id, created_at) VALUES (1, $1, $2)")
            .bind(&created.account_id)
            .bind(now_micros())
            .execute(&mut *tx)
            .await;
    match claimed {
        Ok(_) => {
            tx.commit().await?;
            Ok(Some(created))
        }
        // Another process won the race; its account is the default one.
        Err(error) if is_unique_violation(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn insert_account(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    name: &str,
) -> StoreResult<CreatedAccount> {
    let now = now_micros();
    let account_id = new_id(IdKind::Account);
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&account_id)
        .bind(name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let key = secrets::generate(API_KEY_PREFIX);
    sqlx::query(
        "INSERT INTO admin_api_keys (id, account_id, name, key_digest, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new_id(IdKind::ApiKey))
    .bind(&account_id)
    .bind("initial key")
    .bind(&key.digest)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(CreatedAccount {
        account_id,
        name: name.to_owned(),
        api_key: key.plain,
    })
}

/// Finds the owner of an admin API key given in plain text.
pub async fn find_api_key(db: &Database, plain_key: &str) -> StoreResult<Option<ApiKeyOwner>> {
    let row = sqlx::query("SELECT id, account_id, name FROM admin_api_keys WHERE key_digest = $1")
        .bind(secrets::digest(plain_key))
        .fetch_optional(db.reader())
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ApiKeyOwner {
        key_id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        key_name: row.try_get("name")?,
    }))
}
