//! Webhook imports (inbound integrations).
//!
//! - `lifecycle`: creating, reading, changing and deleting imports, and
//!   their Bearer tokens (stored as digests);
//! - `mappings`: the stage-name mappings, and the stage directory they make
//!   with the funnel's titles;
//! - `authentication`: the lookup that authenticates an inbound request,
//!   with the cache of its stage directory.

mod authentication;
mod lifecycle;
mod mappings;

use sqlx::FromRow;

pub(crate) use authentication::{DirectoryCache, authenticate};
pub(crate) use lifecycle::{
    create, delete, get, list, regenerate_token, rename, set_active, set_create_leads,
    set_rate_limit, set_transform,
};
pub(crate) use mappings::{StageMapping, mappings, replace_mappings, stage_directory};

use super::StoreError;

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

fn import_not_found(import_id: &str) -> StoreError {
    StoreError::NotFound(format!("Webhook import {import_id} not found"))
}
