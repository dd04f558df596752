//! Sessions of the admin web UI: opened by signing in with an admin API key,
//! held by the browser as a random secret in a cookie, stored here only as
//! that secret's digest (so every process sharing the database recognises
//! them, and a copy of the database signs nobody in), and ended by
//! sign-out, by expiry, or by deleting the key they were opened with.

use super::accounts::ApiKeyOwner;
use super::sql::{self, args};
use super::{Database, StoreResult};
use crate::domain::secrets;
use crate::domain::time::now_micros;

/// Prefix of session secrets, so a leaked cookie value is recognisable.
const SESSION_PREFIX: &str = "sy_session";

/// The signed-in admin a session belongs to.
#[derive(Debug, Clone)]
pub(crate) struct UiSession {
    pub account_id: String,
    pub key_id: String,
    pub key_name: String,
}

/// Opens a session for the owner of an admin API key, valid for
/// `lifetime_micros`; returns the secret for the cookie (stored only as a
/// digest). Expired sessions of every account are removed on the way.
pub(crate) async fn create(
    db: &Database,
    owner: &ApiKeyOwner,
    lifetime_micros: i64,
) -> StoreResult<String> {
    let secret = secrets::generate(SESSION_PREFIX);
    let now = now_micros();
    let (digest, account_id, key_id) = (
        secret.digest,
        owner.account_id.clone(),
        owner.key_id.clone(),
    );
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM ui_sessions WHERE expires_at <= $1",
                args![now],
            )
            .await?;
            tx.execute(
                "INSERT INTO ui_sessions (token_digest, account_id, api_key_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                args![&digest, &account_id, &key_id, now, now + lifetime_micros],
            )
            .await?;
            Ok::<_, super::StoreError>(())
        })
    })
    .await?;
    Ok(secret.plain)
}

/// The live session a cookie's secret names, if any.
pub(crate) async fn find(db: &Database, secret: &str) -> StoreResult<Option<UiSession>> {
    let row: Option<(String, String, String)> = sql::fetch_optional(
        db.reader(),
        "SELECT s.account_id, s.api_key_id, k.name \
         FROM ui_sessions s JOIN admin_api_keys k ON k.id = s.api_key_id \
         WHERE s.token_digest = $1 AND s.expires_at > $2",
        args![secrets::digest(secret), now_micros()],
    )
    .await?;
    Ok(row.map(|(account_id, key_id, key_name)| UiSession {
        account_id,
        key_id,
        key_name,
    }))
}

/// Ends the session a cookie's secret names; ending an unknown or already
/// ended session is not an error.
pub(crate) async fn delete(db: &Database, secret: &str) -> StoreResult<()> {
    let digest = secrets::digest(secret);
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "DELETE FROM ui_sessions WHERE token_digest = $1",
                args![&digest],
            )
            .await
            .map(|_| ())
        })
    })
    .await
}
