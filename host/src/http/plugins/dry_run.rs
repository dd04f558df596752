//! A plugin's dry run: one call with the given config and input, with its
//! limits, reporting the output or the named error, fuel, time and logs
//! (the API's and the admin UI's; the call is `plugin_trial`'s).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::domain::plugin::PluginKind;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::http::plugin_trial::{self, TrialCall};
use crate::plugins::abi;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dry_run))
}

/// A dry run: what to call the plugin with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DryRunRequest {
    /// The plugin's config.
    #[serde(default)]
    pub config: Value,
    /// A transform: the request body a CRM would send (JSON, or a string for
    /// other content types). A payload builder: the event.
    pub input: Value,
    /// Transforms only; default `application/json`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub content_type: Option<String>,
    /// Transforms only: request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What a dry run did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DryRunResult {
    /// Whether the plugin returned `ok`.
    pub ok: bool,
    /// The plugin's `ok` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The named error the call ended in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub fuel_used: u64,
    pub duration_ms: f64,
    pub logs: Vec<String>,
}

/// Calls the plugin once with the given config and input, with its limits,
/// and reports the output or the named error, fuel used, time and logs.
#[utoipa::path(post, path = "/api/v1/plugins/{plugin_id}/run", tag = "plugins",
    params(("plugin_id" = String, Path)), request_body = DryRunRequest,
    responses((status = 200, body = DryRunResult),
        (status = 422, body = ErrorBody, description = "The plugin does not compile, or the input cannot be passed to it"),
        (status = 503, body = ErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn dry_run(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(plugin_id): Path<String>,
    JsonBody(request): JsonBody<DryRunRequest>,
) -> ApiResult<Json<DryRunResult>> {
    Ok(Json(
        run_once(&state, &auth.account_id, &plugin_id, &request).await?,
    ))
}

/// Calls a plugin once, as a dry run (the API's and the admin UI's).
pub(crate) async fn run_once(
    state: &AppState,
    account_id: &str,
    plugin_id: &str,
    request: &DryRunRequest,
) -> ApiResult<DryRunResult> {
    let plugin = state.plugins.resolve_any(account_id, plugin_id).await?;
    let document = match plugin.compiled.kind {
        PluginKind::InboundTransform => plugin_trial::transform_document(
            &request.config,
            &request.input,
            request.content_type.as_deref(),
            request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
        .map_err(ApiError::Unprocessable)?,
        PluginKind::PayloadBuilder => abi::payload_call(&request.config, &request.input),
    };
    Ok(DryRunResult::from(
        plugin_trial::call(state, &plugin, document).await?,
    ))
}

impl From<TrialCall> for DryRunResult {
    fn from(call: TrialCall) -> Self {
        let (output, error) = match call.outcome {
            Ok(output) => (Some(output), None),
            Err(error) => (None, Some(error.to_string())),
        };
        Self {
            ok: error.is_none(),
            output,
            error,
            fuel_used: call.fuel_used,
            duration_ms: call.duration_ms,
            logs: call.logs,
        }
    }
}
