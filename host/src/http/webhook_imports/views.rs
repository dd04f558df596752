//! What the webhook imports API answers: an import (its token only once),
//! and the two values an admin also sends back, its transform and its rate
//! limit.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::rate_limit::RateLimit;
use crate::domain::time::to_rfc3339;
use crate::http::integers;
use crate::storage::webhook_imports::WebhookImport;

/// The URLs a CRM sends funnel updates to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportEndpoints {
    /// `POST` or `PATCH` one `{lead_profile_uid, funnel_stage}` record.
    pub update: String,
    /// `POST` or `PATCH` `{"records": [...]}`, at most 100 records.
    pub batch_update: String,
}

/// A webhook import. Its token is never shown again after creation or
/// regeneration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportView {
    pub id: String,
    pub name: String,
    /// New imports are inactive; inbound requests are refused until activated.
    pub active: bool,
    pub endpoints: ImportEndpoints,
    /// The plugin that turns any request body into funnel updates, if any.
    pub transform: Option<ImportTransform>,
    /// Whether a transform's lead record that matches no lead creates one
    /// (off by default: records then only update the leads they match).
    pub create_leads: bool,
    /// How many inbound requests the import accepts (null: no limit).
    pub rate_limit: Option<ImportRateLimit>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookImportView {
    pub(super) fn new(import: WebhookImport, public_url: &str) -> Self {
        let config = import.transform_config_json();
        Self {
            id: import.id,
            name: import.name,
            active: import.active != 0,
            endpoints: ImportEndpoints {
                update: format!("{public_url}/api/v1/webhook-import/update"),
                batch_update: format!("{public_url}/api/v1/webhook-import/batch-update"),
            },
            transform: import
                .transform_plugin_id
                .map(|plugin_id| ImportTransform { plugin_id, config }),
            create_leads: import.create_leads != 0,
            rate_limit: RateLimit::from_columns(
                import.rate_limit_per_second,
                import.rate_limit_burst,
            )
            .map(ImportRateLimit::from),
            created_at: to_rfc3339(import.created_at),
            updated_at: to_rfc3339(import.updated_at),
        }
    }
}

/// A transform attached to an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportTransform {
    /// An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
    pub plugin_id: String,
    /// Passed to the plugin on every call.
    #[serde(default)]
    pub config: Value,
}

/// An inbound rate limit: a request over it gets `429 Too Many Requests`
/// with `Retry-After`, and nothing is written. Each server process limits
/// on its own (N processes accept up to N times the rate).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportRateLimit {
    /// Requests accepted per second, sustained.
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(deserialize_with = "integers::whole")]
    pub requests_per_second: u32,
    /// Requests accepted at once after a quiet period (default: one
    /// second's worth, `requests_per_second`).
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub burst: Option<u32>,
}

impl ImportRateLimit {
    pub(super) fn parse(self) -> Result<RateLimit, crate::domain::InvalidInput> {
        RateLimit::new(self.requests_per_second, self.burst)
    }
}

impl From<RateLimit> for ImportRateLimit {
    fn from(limit: RateLimit) -> Self {
        Self {
            requests_per_second: limit.per_second,
            burst: Some(limit.burst),
        }
    }
}

/// An import with its new token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportWithToken {
    #[serde(flatten)]
    pub import: WebhookImportView,
    /// Send as `Authorization: Bearer <token>`. Stored only as a digest:
    /// copy it now.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportList {
    pub data: Vec<WebhookImportView>,
}
