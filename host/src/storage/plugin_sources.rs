//! The sources of JavaScript and TypeScript plugins, stored beside the
//! modules built from them; also the cache of those builds, by build key.

use super::sql::args;
use super::{Database, StoreResult, corrupt_column};
use crate::domain::plugin::ScriptLanguage;
use crate::domain::time::now_micros;

/// A script and what it was built into.
#[derive(Debug, Clone)]
pub(crate) struct PluginSource {
    pub module_sha256: String,
    pub language: ScriptLanguage,
    pub filename: String,
    /// Space-separated: `transform`, `buildPayload`.
    pub entry_points: String,
    pub source: String,
}

#[derive(Debug, sqlx::FromRow)]
struct PluginSourceRow {
    module_sha256: String,
    language: String,
    filename: String,
    entry_points: String,
    source: String,
}

impl PluginSourceRow {
    /// Parses the language back; an unknown one is reported (see
    /// [`corrupt_column`]) rather than taken for JavaScript.
    fn into_source(self) -> StoreResult<PluginSource> {
        let language = ScriptLanguage::parse(&self.language).ok_or_else(|| {
            corrupt_column(
                &format!("plugin source of module {}", self.module_sha256),
                "language",
                format!("`{}` is neither javascript nor typescript", self.language),
            )
        })?;
        Ok(PluginSource {
            module_sha256: self.module_sha256,
            language,
            filename: self.filename,
            entry_points: self.entry_points,
            source: self.source,
        })
    }
}

/// A build to remember: the module is stored too, once per hash.
pub(crate) struct NewBuild<'a> {
    pub build_key: &'a str,
    pub module_sha256: &'a str,
    pub module: &'a [u8],
    pub language: ScriptLanguage,
    pub filename: &'a str,
    pub entry_points: &'a str,
    pub source: &'a str,
}

const SOURCE_SELECT: &str =
    "SELECT module_sha256, language, filename, entry_points, source FROM plugin_sources";

/// The build with this key, if one was stored.
pub(crate) async fn built(db: &Database, build_key: &str) -> StoreResult<Option<PluginSource>> {
    sqlx::query_as::<_, PluginSourceRow>(&format!("{SOURCE_SELECT} WHERE build_key = $1"))
        .bind(build_key)
        .fetch_optional(db.reader())
        .await?
        .map(PluginSourceRow::into_source)
        .transpose()
}

/// The source a module was built from, if it was built from one.
pub(crate) async fn of_module(
    db: &Database,
    module_sha256: &str,
) -> StoreResult<Option<PluginSource>> {
    sqlx::query_as::<_, PluginSourceRow>(&format!(
        "{SOURCE_SELECT} WHERE module_sha256 = $1 ORDER BY created_at LIMIT 1"
    ))
    .bind(module_sha256)
    .fetch_optional(db.reader())
    .await?
    .map(PluginSourceRow::into_source)
    .transpose()
}

/// Stores a module and the source it was built from (each once).
pub(crate) async fn store(db: &Database, build: NewBuild<'_>) -> StoreResult<()> {
    let now = now_micros();
    let module = build.module.to_vec();
    let row = [
        build.build_key,
        build.module_sha256,
        build.language.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(language: &str) -> PluginSourceRow {
        PluginSourceRow {
            module_sha256: "ab12".into(),
            language: language.into(),
            filename: "transform.ts".into(),
            entry_points: "transform".into(),
            source: "export function transform() { return []; }".into(),
        }
    }

    #[test]
    fn a_stored_language_is_parsed_and_an_unknown_one_refused() {
        assert_eq!(
            row("typescript").into_source().unwrap().language,
            ScriptLanguage::TypeScript
        );
        assert_eq!(
            row("javascript").into_source().unwrap().language,
            ScriptLanguage::JavaScript
        );
        let error = row("coffeescript").into_source().unwrap_err().to_string();
        assert!(
            error.contains("plugin source of module ab12: column language is not valid: `coffeescript` is neither javascript nor typescript"),
            "{error}"
        );
    }
}
