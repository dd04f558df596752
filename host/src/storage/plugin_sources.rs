//! The sources of JavaScript and TypeScript plugins, stored beside the
//! modules built from them; also the cache of those builds, by build key.

use super::sql::args;
use super::{Database, StoreResult};
use crate::domain::time::now_micros;

/// A script and what it was built into.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PluginSource {
    pub module_sha256: String,
    pub language: String,
    pub filename: String,
    /// Space-separated: `transform`, `buildPayload`.
    pub entry_points: String,
    pub source: String,
}

/// A build to remember: the module is stored too, once per hash.
pub struct NewBuild<'a> {
    pub build_key: &'a str,
    pub module_sha256: &'a str,
    pub module: &'a [u8],
    pub language: &'a str,
    pub filename: &'a str,
    pub entry_points: &'a str,
    pub source: &'a str,
}

const SOURCE_SELECT: &str =
    "SELECT module_sha256, language, filename, entry_points, source FROM plugin_sources";

/// The build with this key, if one was stored.
pub async fn built(db: &Database, build_key: &str) -> StoreResult<Option<PluginSource>> {
    Ok(
        sqlx::query_as::<_, PluginSource>(&format!("{SOURCE_SELECT} WHERE build_key = $1"))
            .bind(build_key)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// The source a module was built from, if it was built from one.
pub async fn of_module(db: &Database, module_sha256: &str) -> StoreResult<Option<PluginSource>> {
    Ok(sqlx::query_as::<_, PluginSource>(&format!(
        "{SOURCE_SELECT} WHERE module_sha256 = $1 ORDER BY created_at LIMIT 1"
    ))
    .bind(module_sha256)
    .fetch_optional(db.reader())
    .await?)
}

/// Stores a module and the source it was built from (each once).
pub async fn store(db: &Database, build: NewBuild<'_>) -> StoreResult<()> {
    let now = now_micros();
    let module = build.module.to_vec();
    let row = [
        build.build_key,
        build.module_sha256,
        build.language,
        build.filename,
        build.entry_points,
        build.source,
    ]
    .map(str::to_owned);
    db.write(move |tx| {
        Box::pin(async move {
            let [build_key, module_sha256, language, filename, entry_points, source] = &row;
            tx.execute(
                "INSERT INTO plugin_modules (sha256, module, size_bytes, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
                args![module_sha256, module.as_slice(), module.len() as i64, now],
            )
            .await?;
            tx.execute(
                "INSERT INTO plugin_sources (build_key, module_sha256, language, filename, \
                     entry_points, source, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (build_key) DO NOTHING",
                args![build_key, module_sha256, language, filename, entry_points, source, now],
            )
            .await?;
            Ok(())
        })
    })
    .await
}
