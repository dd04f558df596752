//! Webhook imports (inbound integrations): their lifecycle, Bearer tokens
//! (stored as digests), stage-name mappings, and the lookup that
//! authenticates an inbound request.

use std::sync::Arc;

use serde_json::Value;
use sqlx::FromRow;

use super::sql::{Arg, DbRow, FromDbRow, args};
use super::versioned_cache::VersionedCache;
use super::write_tx::WriteTx;
use super::{Database, StoreError, StoreResult, corrupt_column, funnel_stages};
use crate::domain::InvalidInput;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::plugin::Transform;
use crate::domain::rate_limit::RateLimit;
use crate::domain::secrets;
use crate::domain::stage_matching::{ResolvedStage, StageDirectory};
use crate::domain::stage_title::matching_key;
use crate::domain::time::now_micros;

/// Prefix of import tokens, so a leaked token is recognisable in a scan.
const TOKEN_PREFIX: &str = "sy_import";
/// Most mappings one import may have.
pub(crate) const MAX_MAPPINGS: usize = 1_000;

#[derive(Debug, Clone, FromRow)]
pub(crate) struct WebhookImport {
    pub id: String,
    pub name: String,
    pub active: i64,
    pub transform_plugin_id: Option<String>,
    /// JSON text.
    pub transform_config: Option<String>,
    /// 1 when a lead record that matches no lead creates one.
    pub create_leads: i64,
    /// The inbound rate limit, when one is set (both or neither).
    pub rate_limit_per_second: Option<i64>,
    pub rate_limit_burst: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl WebhookImport {
    /// The attached transform's config as JSON (`null` when there is none,
    /// or when the stored text is not JSON).
    pub(crate) fn transform_config_json(&self) -> serde_json::Value {
        self.transform_config
            .as_deref()
            .and_then(|config| serde_json::from_str(config).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// One mapping, with the title of the stage it points at.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct StageMapping {
    pub external_name: String,
    pub funnel_stage_id: String,
    pub funnel_stage_title: String,
}

/// The import an inbound token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct ImportCaller {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub active: i64,
    /// The transform, when one is attached.
    pub transform: Option<Transform>,
    /// Whether lead records that match no lead create one.
    pub create_leads: bool,
    /// How many requests the import accepts, when it is limited.
    pub rate_limit: Option<RateLimit>,
}

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

/// The import's mappings, in the order they were given.
pub(crate) async fn mappings(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<Vec<StageMapping>> {
    get(db, account_id, import_id).await?;
    Ok(sqlx::query_as::<_, StageMapping>(
        "SELECT m.external_name, m.funnel_stage_id, s.title AS funnel_stage_title \
         FROM webhook_import_mappings m JOIN funnel_stages s ON s.id = m.funnel_stage_id \
         WHERE m.import_id = $1 AND s.deleted_at IS NULL ORDER BY m.list_order",
    )
    .bind(import_id)
    .fetch_all(db.reader())
    .await?)
}

/// Replaces every mapping of an import. Refuses unknown stages and external
/// names that are equal after normalising, naming them.
pub(crate) async fn replace_mappings(
    db: &Database,
    account_id: &str,
    import_id: &str,
    requested: &[(String, String)],
) -> StoreResult<Vec<StageMapping>> {
    if requested.len() > MAX_MAPPINGS {
        return Err(InvalidInput(format!("at most {MAX_MAPPINGS} mappings per import")).into());
    }
    let stages = funnel_stages::list(db, account_id).await?;
    let mut seen = std::collections::HashMap::new();
    for (index, (external_name, stage_id)) in requested.iter().enumerate() {
        crate::domain::reject_nul(&format!("mappings[{index}].external_name"), external_name)?;
        let key = matching_key(external_name);
        if key.is_empty() {
            return Err(
                InvalidInput(format!("mappings[{index}].external_name must not be empty")).into(),
            );
        }
        if let Some(first) = seen.insert(key, index) {
            return Err(InvalidInput(format!(
                "mappings[{index}].external_name \"{external_name}\" duplicates mappings[{first}] \
                 (names are compared ignoring case, spaces, `_` and `-`)"
            ))
            .into());
        }
        if !stages.iter().any(|stage| &stage.id == stage_id) {
            return Err(InvalidInput(format!(
                "mappings[{index}].funnel_stage_id {stage_id} is not a stage of this account's funnel"
            ))
            .into());
        }
    }
    let (account, import, requested) = (
        account_id.to_owned(),
        import_id.to_owned(),
        requested.to_vec(),
    );
    db.write(move |tx| {
        Box::pin(async move { write_mappings(tx, &account, &import, &requested).await })
    })
    .await?;
    mappings(db, account_id, import_id).await
}

/// The work of [`replace_mappings`], inside the caller's transaction.
async fn write_mappings(
    tx: &mut WriteTx<'_>,
    account_id: &str,
    import_id: &str,
    requested: &[(String, String)],
) -> StoreResult<()> {
    let import_exists: Option<(String,)> = tx
        .fetch_optional(
            &format!(
                "SELECT id FROM webhook_imports WHERE account_id = $1 AND id = $2{}",
                tx.for_update()
            ),
            args![account_id, import_id],
        )
        .await?;
    if import_exists.is_none() {
        return Err(import_not_found(import_id));
    }
    tx.execute(
        "DELETE FROM webhook_import_mappings WHERE import_id = $1",
        args![import_id],
    )
    .await?;
    for (index, (external_name, stage_id)) in requested.iter().enumerate() {
        tx.execute(
            "INSERT INTO webhook_import_mappings (import_id, external_key, external_name, funnel_stage_id, list_order) \
             VALUES ($1, $2, $3, $4, $5)",
            args![
                import_id,
                matching_key(external_name),
                external_name.trim(),
                stage_id,
                index as i64
            ],
        )
        .await?;
    }
    tx.execute(
        "UPDATE webhook_imports SET updated_at = $1, version = version + 1 WHERE id = $2",
        args![now_micros(), import_id],
    )
    .await?;
    Ok(())
}

/// Stage directories of imports, reused while neither the import (its
/// `version`, bumped by every change to it) nor its account's funnel
/// (`funnel_version`) has changed. Every lookup still reads the import by
/// token, so a regenerated token or a deactivated import is refused at once
/// by every process; only the directory is cached. Versioned by
/// `(version, funnel_version)`.
pub(crate) type DirectoryCache = VersionedCache<StageDirectory, (i64, i64), MAX_CACHED_DIRECTORIES>;

/// Most imports whose directories are kept; past it the cache starts over.
const MAX_CACHED_DIRECTORIES: usize = 10_000;

/// The import a plain-text token belongs to (active or not), with the
/// stage directory its requests resolve names with.
pub(crate) async fn authenticate(
    db: &Database,
    cache: &DirectoryCache,
    token: &str,
) -> StoreResult<Option<(ImportCaller, Arc<StageDirectory>)>> {
    let digest = secrets::digest(token);
    let row: Option<ImportRow> = db
        .hot_read(
            "SELECT i.id, i.account_id, i.name, i.active, i.version, a.funnel_version, \
                    i.transform_plugin_id, i.transform_config, i.create_leads, \
                    i.rate_limit_per_second, i.rate_limit_burst \
             FROM webhook_imports i JOIN accounts a ON a.id = i.account_id \
             WHERE i.token_digest = $1",
            vec![Arg::from(digest)],
        )
        .await?;
    let Some(ImportRow {
        id,
        account_id,
        name,
        active,
        import_version,
        funnel_version,
        plugin_id,
        config,
        create_leads,
        rate_limit,
    }) = row
    else {
        return Ok(None);
    };
    // The config stays text: every transformed request passes it to the
    // plugin as it is.
    let transform = Transform::from_columns(plugin_id, config).map_err(|detail| {
        corrupt_column(&format!("webhook import {id}"), "transform_config", detail)
    })?;
    let directory = match cache.get(&id, (import_version, funnel_version)) {
        Some(directory) => directory,
        None => {
            let directory = Arc::new(stage_directory(db, &account_id, &id).await?);
            cache.put(
                &id,
                (import_version, funnel_version),
                Arc::clone(&directory),
            );
            directory
        }
    };
    let caller = ImportCaller {
        id,
        account_id,
        name,
        active,
        transform,
        create_leads: create_leads != 0,
        rate_limit,
    };
    Ok(Some((caller, directory)))
}

/// The row [`authenticate`] reads.
struct ImportRow {
    id: String,
    account_id: String,
    name: String,
    active: i64,
    import_version: i64,
    funnel_version: i64,
    plugin_id: Option<String>,
    config: Option<String>,
    create_leads: i64,
    rate_limit: Option<RateLimit>,
}

impl FromDbRow for ImportRow {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
        Ok(Self {
            id: row.get(0)?,
            account_id: row.get(1)?,
            name: row.get(2)?,
            active: row.get(3)?,
            import_version: row.get(4)?,
            funnel_version: row.get(5)?,
            plugin_id: row.get(6)?,
            config: row.get(7)?,
            create_leads: row.get(8)?,
            rate_limit: RateLimit::from_columns(row.get(9)?, row.get(10)?),
        })
    }
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

/// The mappings and live stage titles of an import, in one query.
pub(crate) async fn stage_directory(
    db: &Database,
    account_id: &str,
    import_id: &str,
) -> StoreResult<StageDirectory> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT 1, m.external_name, s.id, s.title \
         FROM webhook_import_mappings m JOIN funnel_stages s ON s.id = m.funnel_stage_id \
         WHERE m.import_id = $1 AND s.deleted_at IS NULL \
         UNION ALL \
         SELECT 0, title, id, title FROM funnel_stages WHERE account_id = $2 AND deleted_at IS NULL",
    )
    .bind(import_id)
    .bind(account_id)
    .fetch_all(db.reader())
    .await?;
    let (mapped, titled): (Vec<_>, Vec<_>) = rows.into_iter().partition(|row| row.0 == 1);
    Ok(StageDirectory::new(
        mapped
            .into_iter()
            .map(|(_, name, id, title)| (name, ResolvedStage { id, title })),
        titled
            .into_iter()
            .map(|(_, _, id, title)| ResolvedStage { id, title }),
    ))
}

fn import_not_found(import_id: &str) -> StoreError {
    StoreError::NotFound(format!("Webhook import {import_id} not found"))
}
