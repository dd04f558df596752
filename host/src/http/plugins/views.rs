//! What the plugins API answers: a plugin, built in or uploaded (with the
//! language and file name of the script it was built from), and the list.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::plugin::{BUILTIN_ID_PREFIX, PluginKind, PluginLimits};
use crate::domain::time::to_rfc3339;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::plugins::builtin::builtins;
use crate::storage::plugin_sources;
use crate::storage::plugins::PluginRecord;

/// A plugin: built in (id `builtin:NAME`) or uploaded.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginView {
    pub id: String,
    pub name: String,
    pub kind: PluginKind,
    pub builtin: bool,
    /// SHA-256 of the module, hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub limits: PluginLimits,
    /// Upload time; null for built-ins.
    pub created_at: Option<String>,
    /// `javascript` or `typescript` for a plugin built from a script
    /// (`GET /api/v1/plugins/{id}/source` returns it); null for Wasm.
    pub language: Option<String>,
    /// The script's file name, as its stack traces show it.
    pub filename: Option<String>,
}

impl From<PluginRecord> for PluginView {
    fn from(record: PluginRecord) -> Self {
        Self {
            limits: record.limits,
            kind: record.kind,
            id: record.id,
            name: record.name,
            builtin: false,
            sha256: record.sha256,
            size_bytes: record.size_bytes.max(0) as u64,
            created_at: Some(to_rfc3339(record.created_at)),
            language: None,
            filename: None,
        }
    }
}

impl PluginView {
    /// The view with its script's language and file name, if it was built
    /// from one.
    pub(super) async fn with_source(mut self, state: &AppState) -> ApiResult<Self> {
        if !self.builtin
            && let Some(source) = plugin_sources::of_module(&state.db, &self.sha256).await?
        {
            self.language = Some(source.language.as_str().to_owned());
            self.filename = Some(source.filename);
        }
        Ok(self)
    }
}

pub(crate) fn builtin_views() -> impl Iterator<Item = PluginView> {
    builtins().map(|plugin| PluginView {
        id: format!("{BUILTIN_ID_PREFIX}{}", plugin.name),
        name: plugin.name.to_owned(),
        kind: plugin.kind,
        builtin: true,
        sha256: crate::domain::secrets::sha256_hex(plugin.module),
        size_bytes: plugin.module.len() as u64,
        limits: PluginLimits::DEFAULT,
        created_at: None,
        language: None,
        filename: None,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginList {
    pub data: Vec<PluginView>,
}
