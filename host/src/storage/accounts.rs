//! Accounts and their admin API keys: creation (from the CLI and on first
//! start) and key lookup for authentication.

use super::sql::{Arg, args};
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult};
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
    let name = name.to_owned();
    db.write(move |tx| Box::pin(async move { insert_account(tx, &name).await }))
        .await
}

/// On the first start against an empty database, creates the account
/// `default` and returns it with its key; otherwise returns `None`. Safe when
/// several processes start at once: exactly one of them creates it.
pub async fn create_default_account_on_first_start(
    db: &Database,
) -> StoreResult<Option<CreatedAccount>> {
    let claimed = db
        .write(|tx| Box::pin(async move { claim_first_start(tx).await }))
        .await;
    match claimed {
        Ok(created) => Ok(created),
        // Another process won the race; its account is the default one.
        // Returning the failure rolled this one's account back.
        Err(FirstStart::Lost) => Ok(None),
        Err(FirstStart::Store(error)) => Err(error),
    }
}

/// Why [`claim_first_start`] failed.
enum FirstStart {
    /// Another process claimed the first start in between.
    Lost,
    Store(StoreError),
}

impl From<StoreError> for FirstStart {
    fn from(error: StoreError) -> Self {
        FirstStart::Store(error)
    }
}

/// The work of [`create_default_account_on_first_start`], inside the
/// caller's transaction.
async fn claim_first_start(tx: &mut WriteTx<'_>) -> Result<Option<CreatedAccount>, FirstStart> {
    let (existing,): (i64,) = tx
        .fetch_one("SELECT COUNT(*) FROM accounts", args![])
        .await?;
    if existing > 0 {
        return Ok(None);
    }
    let created = insert_account(tx, "default").await?;
    let claimed = tx
        .execute(
            "INSERT INTO first_start (id, account_id, created_at) VALUES (1, $1, $2)",
            args![&created.account_id, now_micros()],
        )
        .await;
    match claimed {
        Ok(_) => Ok(Some(created)),
        Err(error) if error.is_unique_violation() => Err(FirstStart::Lost),
        Err(error) => Err(error.into()),
    }
}

async fn insert_account(tx: &mut WriteTx<'_>, name: &str) -> StoreResult<CreatedAccount> {
    let now = now_micros();
    let account_id = new_id(IdKind::Account);
    tx.execute(
        "INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)",
        args![&account_id, name, now],
    )
    .await?;
    let key = secrets::generate(API_KEY_PREFIX);
    tx.execute(
        "INSERT INTO admin_api_keys (id, account_id, name, key_digest, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        args![
            new_id(IdKind::ApiKey),
            &account_id,
            "initial key",
            &key.digest,
            now
        ],
    )
    .await?;
    Ok(CreatedAccount {
        account_id,
        name: name.to_owned(),
        api_key: key.plain,
    })
}

/// Finds the owner of an admin API key given in plain text. Every admin
/// API request makes this read, so it goes the way of the inbound token
/// lookup ([`Database::hot_read`]): on SQLite on the calling thread rather
/// than a hand-off to an sqlx connection's thread and back.
pub async fn find_api_key(db: &Database, plain_key: &str) -> StoreResult<Option<ApiKeyOwner>> {
    let row: Option<(String, String, String)> = db
        .hot_read(
            "SELECT id, account_id, name FROM admin_api_keys WHERE key_digest = $1",
            vec![Arg::from(secrets::digest(plain_key))],
        )
        .await?;
    Ok(row.map(|(key_id, account_id, key_name)| ApiKeyOwner {
        key_id,
        account_id,
        key_name,
    }))
}
