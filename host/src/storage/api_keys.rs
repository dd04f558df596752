//! An account's admin API keys: list them (by name, never the secret),
//! create one (its secret shown once, stored as a digest), revoke one. An
//! account keeps at least one key, so it can always be administered;
//! revoking a key ends the UI sessions opened with it.

use sqlx::FromRow;

use super::sql::args;
use super::{Database, StoreError, StoreResult};
use crate::domain::InvalidInput;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::secrets;
use crate::domain::time::now_micros;

/// Prefix of admin API keys (as in [`super::accounts`]), so a leaked key is
/// recognisable in a scan.
const API_KEY_PREFIX: &str = "sy_admin";
const MAX_NAME_LENGTH: usize = 200;

/// A key as admins see it: never its secret.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A trimmed, non-empty key name.
pub(crate) fn parse_name(raw: &str) -> Result<String, InvalidInput> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(InvalidInput(
            "name must not be empty: say who or what uses the key".into(),
        ));
    }
    crate::domain::reject_nul("name", name)?;
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(InvalidInput(format!(
            "name must be at most {MAX_NAME_LENGTH} characters"
        )));
    }
    Ok(name.to_owned())
}

/// The account's keys, oldest first.
pub(crate) async fn list(db: &Database, account_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
    Ok(sqlx::query_as::<_, ApiKeyRecord>(
        "SELECT id, name, created_at FROM admin_api_keys WHERE account_id = $1 ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(db.reader())
    .await?)
}

/// Creates a key; returns it with its secret in plain text (shown once).
pub(crate) async fn create(
    db: &Database,
    account_id: &str,
    name: &str,
) -> StoreResult<(ApiKeyRecord, String)> {
    let key = secrets::generate(API_KEY_PREFIX);
    let record = ApiKeyRecord {
        id: new_id(IdKind::ApiKey),
        name: name.to_owned(),
        created_at: now_micros(),
    };
    let (id, account, key_name, digest, created_at) = (
        record.id.clone(),
        account_id.to_owned(),
        record.name.clone(),
        key.digest,
        record.created_at,
    );
    db.write(move |tx| {
        Box::pin(async move {
            let accounts = tx
                .execute(
                    "INSERT INTO admin_api_keys (id, account_id, name, key_digest, created_at) \
                     SELECT $1, id, $3, $4, $5 FROM accounts WHERE id = $2",
                    args![&id, &account, &key_name, &digest, created_at],
                )
                .await?;
            if accounts == 0 {
                return Err(StoreError::NotFound(format!("Account {account} not found")));
            }
            Ok(())
        })
    })
    .await?;
    Ok((record, key.plain))
}

/// Revokes a key at once, with the UI sessions opened with it. Refuses the
/// account's last key.
pub(crate) async fn revoke(
    db: &Database,
    account_id: &str,
    key_id: &str,
) -> StoreResult<ApiKeyRecord> {
    let (account, key) = (account_id.to_owned(), key_id.to_owned());
    db.write(move |tx| {
        Box::pin(async move {
            // Lock the account's keys, so two revocations cannot each leave
            // the other's key as the last one and both succeed.
            let keys: Vec<(String, String, i64)> = tx
                .fetch_all(
                    &format!(
                        "SELECT id, name, created_at FROM admin_api_keys WHERE account_id = $1{}",
                        tx.for_update()
                    ),
                    args![&account],
                )
                .await?;
            let Some((id, name, created_at)) = keys.iter().find(|(id, ..)| *id == key).cloned()
            else {
                return Err(StoreError::NotFound(format!("API key {key} not found")));
            };
            if keys.len() == 1 {
                return Err(StoreError::Conflict(format!(
                    "API key “{name}” is the account's last key; create another one before \
                     revoking it, so the account can still be administered"
                )));
            }
            tx.execute("DELETE FROM ui_sessions WHERE api_key_id = $1", args![&id])
                .await?;
            tx.execute(
                "DELETE FROM admin_api_keys WHERE account_id = $1 AND id = $2",
                args![&account, &id],
            )
            .await?;
            Ok(ApiKeyRecord {
                id,
                name,
                created_at,
            })
        })
    })
    .await
}
