//! The lookup that authenticates an inbound request: the import a token
//! belongs to, read on the hot-read path every time, and its stage
//! directory, cached while neither the import nor the funnel changes.

use std::sync::Arc;

use super::stage_directory;
use crate::domain::plugin::Transform;
use crate::domain::rate_limit::RateLimit;
use crate::domain::secrets;
use crate::domain::stage_matching::StageDirectory;
use crate::storage::sql::{Arg, DbRow, FromDbRow};
use crate::storage::versioned_cache::VersionedCache;
use crate::storage::{Database, StoreResult, corrupt_column};

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
