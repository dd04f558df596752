//! Creating, reading, changing and deleting webhook imports; a new token
//! is shown once and stored as a digest.

use serde_json::Value;

use super::{WebhookImport, import_not_found};
use crate::domain::ids::{IdKind, new_id};
use crate::domain::rate_limit::RateLimit;
use crate::domain::secrets;
use crate::domain::time::now_micros;
use crate::storage::sql::{Arg, args};
use crate::storage::write_tx::WriteTx;
use crate::storage::{Database, StoreResult};

/// Prefix of import tokens, so a leaked token is recognisable in a scan.
const TOKEN_PREFIX: &str = "sy_import";

const IMPORT_COLUMNS: &str = "id, name, active, transform_plugin_id, transform_config, create_leads, \
     rate_limit_per_second, rate_limit_burst, created_at, updated_at";

/// Creates an inactive import and returns it with its token in plain text
/// (shown this once).
pub(crate) async fn create(
    db: &Database,
    account_id: &str,
    name: &str,
) -> StoreResult<(WebhookImport, String)> {
    let id = new_id(IdKind::WebhookImport);
    let token = secrets::generate(TOKEN_PREFIX);
    let now = now_micros();
    let (import_id, account, name, digest) = (
        id.clone(),
        account_id.to_owned(),
        name.to_owned(),
        token.digest,
    );
    db.write(move |tx| {
        Box::pin(async move {
            tx.execute(
                "INSERT INTO webhook_imports (id, account_id, name, token_digest, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 0, $5, $5)",
                args![&import_id, &account, &name, &digest, now],
            )
            .await
        })
    })
    .await?;
    Ok((get(db, account_id, &id).await?, token.plain))
}

pub(crate) async fn list(db: &Database, account_id: &str) -> StoreResult<Vec<WebhookImport>> {
    Ok(sqlx::query_as::<_, WebhookImport>(&format!(
        "SELECT {IMPORT_COLUMNS} FROM webhook_imports WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(db.reader())
    .await?)
}

pub(crate) async fn get(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<WebhookImport> {
    sqlx::query_as::<_, WebhookImport>(&format!(
        "SELECT {IMPORT_COLUMNS} FROM webhook_imports WHERE account_id = $1 AND id = $2"
    ))
    .bind(account_id)
    .bind(import_id)
    .fetch_optional(db.reader())
    .await?
    .ok_or_else(|| import_not_found(import_id))
}

pub(crate) async fn rename(
    db: &Database,
    account_id: &str,
    import_id: &str,
    name: &str,
) -> StoreResult<WebhookImport> {
    update_row(
        db,
        account_id,
        import_id,
        "name = $4",
        vec![Arg::from(name.to_owned())],
    )
    .await
}

pub(crate) async fn set_active(
    db: &Database,
    account_id: &str,
    import_id: &str,
    active: bool,
) -> StoreResult<WebhookImport> {
    update_row(
        db,
        account_id,
        import_id,
        "active = $4",
        vec![Arg::from(active)],
    )
    .await
}

/// Lets lead records that match no lead create one, or stops them.
pub(crate) async fn set_create_leads(
    db: &Database,
    account_id: &str,
    import_id: &str,
    create_leads: bool,
) -> StoreResult<WebhookImport> {
    update_row(
        db,
        account_id,
        import_id,
        "create_leads = $4",
        vec![Arg::from(create_leads)],
    )
    .await
}

/// Limits the inbound requests the import accepts, or lifts the limit
/// (`None`).
pub(crate) async fn set_rate_limit(
    db: &Database,
    account_id: &str,
    import_id: &str,
    limit: Option<RateLimit>,
) -> StoreResult<WebhookImport> {
    update_row(
        db,
        account_id,
        import_id,
        "rate_limit_per_second = $4, rate_limit_burst = $5",
        vec![
            Arg::from(limit.map(|limit| i64::from(limit.per_second))),
            Arg::from(limit.map(|limit| i64::from(limit.burst))),
        ],
    )
    .await
}

/// Replaces the token; the old one stops working as soon as this commits.
pub(crate) async fn regenerate_token(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<(WebhookImport, String)> {
    let token = secrets::generate(TOKEN_PREFIX);
    let import = update_row(
        db,
        account_id,
        import_id,
        "token_digest = $4",
        vec![Arg::from(token.digest)],
    )
    .await?;
    Ok((import, token.plain))
}

/// Attaches a transform plugin with its config, or detaches it (`None`).
pub(crate) async fn set_transform(
    db: &Database,
    account_id: &str,
    import_id: &str,
    transform: Option<(&str, &Value)>,
) -> StoreResult<WebhookImport> {
    let values = vec![
        Arg::from(transform.map(|(plugin_id, _)| plugin_id.to_owned())),
        Arg::from(transform.map(|(_, config)| config.to_string())),
    ];
    update_row(
        db,
        account_id,
        import_id,
        "transform_plugin_id = $4, transform_config = $5",
        values,
    )
    .await
}

/// Sets columns (`assignments` uses `$4`, `$5`, ... for `values`), bumps
/// `updated_at` and the version caches check.
async fn update_row(
    db: &Database,
    account_id: &str,
    import_id: &str,
    assignments: &str,
    values: Vec<Arg<'static>>,
) -> StoreResult<WebhookImport> {
    let sql = format!(
        "UPDATE webhook_imports SET {assignments}, updated_at = $1, version = version + 1 \
         WHERE account_id = $2 AND id = $3"
    );
    let mut binds = vec![
        Arg::from(now_micros()),
        Arg::from(account_id.to_owned()),
        Arg::from(import_id.to_owned()),
    ];
    binds.extend(values);
    let import = import_id.to_owned();
    db.write(move |tx| {
        Box::pin(async move {
            let updated = tx.execute(&sql, &binds).await?;
            if updated == 0 {
                return Err(import_not_found(&import));
            }
            Ok(())
        })
    })
    .await?;
    get(db, account_id, import_id).await
}

/// Deletes an import with its mappings; its token stops working at once.
pub(crate) async fn delete(db: &Database, account_id: &str, import_id: &str) -> StoreResult<()> {
    let (account, import) = (account_id.to_owned(), import_id.to_owned());
    db.write(move |tx| Box::pin(async move { remove(tx, &account, &import).await }))
        .await
}

/// The work of [`delete`], inside the caller's transaction.
async fn remove(tx: &mut WriteTx<'_>, account_id: &str, import_id: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM webhook_import_mappings WHERE import_id IN \
                 (SELECT id FROM webhook_imports WHERE account_id = $1 AND id = $2)",
        args![account_id, import_id],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM webhook_imports WHERE account_id = $1 AND id = $2",
            args![account_id, import_id],
        )
        .await?;
    if deleted == 0 {
        return Err(import_not_found(import_id));
    }
    Ok(())
}
