//! Trying a transform on a sample request without writing anything:
//! `POST /api/v1/webhook-imports/{id}/transform/test` runs the plugin in
//! the sandbox on the sample as the inbound endpoints would (same
//! document, same limits, same check that it returned a list), and
//! reports the records it returned, what each would do with the import's
//! mappings and funnel, and the plugin's logs or its named error. The
//! webhooks' payload preview is the outbound twin; the call itself is
//! `plugin_trial`'s, as for a plugin's dry run. Attaching a transform
//! with a `sample` runs the same trial first and refuses a transform that
//! fails it, so a wrong config is caught before a CRM's request is.

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
use crate::http::funnel_import::{
    RecordKinds, WITHHELD_FROM_TRANSFORMS, check_record_count, resolve_records,
};
use crate::http::plugin_trial;
use crate::plugins::registry::transform_records;
use crate::storage::webhook_imports::{self, WebhookImport};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(test_transform))
}

/// A request a CRM would send, to try a transform on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InboundSample {
    /// The body: any JSON, or a string for a content type that is not JSON.
    pub body: Value,
    /// The request's content type; default `application/json`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub content_type: Option<String>,
    /// Request headers, as the transform would see them (names in
    /// lowercase; `Authorization` and `Cookie` are never passed on).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// A transform to try on a sample request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransformTestRequest {
    /// An uploaded `inbound-transform` plugin's id, or
    /// `builtin:json-mapper`; the import's attached transform when absent.
    pub plugin_id: Option<String>,
    /// The config to call it with. When absent: the attached transform's
    /// config if `plugin_id` is absent too, else `null`.
    pub config: Option<Value>,
    pub sample: InboundSample,
}

/// What one record would do: checked against the import's mappings and
/// the account's funnel stages, as the endpoints would check it (whether
/// the lead exists is not looked up).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordCheck {
    /// The record's place in `records`, from 0.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_profile_uid: Option<String>,
    /// The title of the stage the record would move the lead to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funnel_stage: Option<String>,
    /// Why the record would fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the transform made of the sample. Nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TransformTestResult {
    /// Whether the transform returned a list of records the endpoints
    /// would take (a record may still fail on its own: see `checks`).
    pub ok: bool,
    /// The records, as the transform returned them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Value>>,
    /// Each record checked; empty when the transform failed.
    pub checks: Vec<RecordCheck>,
    /// The named error the call ended in (`plugin error: ...`, `out of
    /// fuel ...`, `invalid output: ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub fuel_used: u64,
    pub duration_ms: f64,
    /// What the plugin logged.
    pub logs: Vec<String>,
}

/// Runs a transform (the attached one, or the one named) on a sample
/// request in the sandbox, and reports the records it returned, what each
/// would do, and the plugin's logs or named error. Writes nothing.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/transform/test", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = TransformTestRequest,
    responses((status = 200, body = TransformTestResult, description = "The transform ran: `ok` says whether it returned records, `error` why not"),
        (status = 409, body = ErrorBody, description = "No `plugin_id` was given and the import has no transform attached"),
        (status = 422, body = ErrorBody, description = "The plugin is not an inbound transform or no longer compiles, or the sample's body is not the JSON its content type says"),
        (status = 503, body = ErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn test_transform(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<TransformTestRequest>,
) -> ApiResult<Json<TransformTestResult>> {
    let import = webhook_imports::get(&state.db, &auth.account_id, &import_id).await?;
    let (plugin_id, config) = match request.plugin_id {
        Some(plugin_id) => (plugin_id, request.config.unwrap_or(Value::Null)),
        None => {
            let Some(plugin_id) = import.transform_plugin_id.clone() else {
                return Err(ApiError::Conflict(
                    "No transform is attached to this import: name the plugin_id to try".into(),
                ));
            };
            let config = request
                .config
                .unwrap_or_else(|| import.transform_config_json());
            (plugin_id, config)
        }
    };
    Ok(Json(
        run_on_sample(
            &state,
            &auth.account_id,
            &import,
            &plugin_id,
            &config,
            &request.sample,
        )
        .await?,
    ))
}

/// Runs a transform on a sample request, as the inbound endpoints would,
/// and checks its records against `import`'s mappings (the API's and the
/// admin UI's trial). Errors are the plugin's resolution (unknown, not a
/// transform, no longer compiles), a sample body that is not the JSON its
/// content type says, and a busy sandbox; whatever the plugin does is in
/// the result.
pub(crate) async fn run_on_sample(
    state: &AppState,
    account_id: &str,
    import: &WebhookImport,
    plugin_id: &str,
    config: &Value,
    sample: &InboundSample,
) -> ApiResult<TransformTestResult> {
    let plugin = state
        .plugins
        .resolve(account_id, plugin_id, PluginKind::InboundTransform)
        .await?;
    let headers = plugin_headers(&sample.headers);
    let document = plugin_trial::transform_document(
        config,
        &sample.body,
        sample.content_type.as_deref(),
        headers.iter().map(|(name, value)| (name.as_str(), *value)),
    )
    .map_err(|error| ApiError::Unprocessable(format!("sample.body: {error}")))?;
    let call = plugin_trial::call(state, &plugin, document).await?;
    let mut result = TransformTestResult {
        ok: false,
        records: None,
        checks: Vec::new(),
        error: None,
        fuel_used: call.fuel_used,
        duration_ms: call.duration_ms,
        logs: call.logs,
    };
    let records = call
        .outcome
        .and_then(transform_records)
        .map_err(|error| error.to_string())
        .and_then(|records| check_record_count(&records).map(|()| records));
    match records {
        Ok(records) => {
            let directory =
                webhook_imports::stage_directory(&state.db, account_id, &import.id).await?;
            result.checks =
                resolve_records(records.clone(), &directory, RecordKinds::WithLeadRecords)
                    .results
                    .into_iter()
                    .map(|checked| RecordCheck {
                        index: checked.index,
                        lead_profile_uid: checked.lead_profile_uid,
                        funnel_stage: checked.funnel_stage,
                        error: checked.error,
                    })
                    .collect();
            result.ok = true;
            result.records = Some(records);
        }
        Err(error) => result.error = Some(error),
    }
    Ok(result)
}

/// Refuses a transform that fails on the sample, with its error and what
/// it logged (attaching with a sample).
pub(crate) async fn refuse_if_failing(
    state: &AppState,
    account_id: &str,
    import: &WebhookImport,
    plugin_id: &str,
    config: &Value,
    sample: &InboundSample,
) -> ApiResult<()> {
    let tried = run_on_sample(state, account_id, import, plugin_id, config, sample).await?;
    match tried.error {
        None => Ok(()),
        Some(error) => {
            let logs = if tried.logs.is_empty() {
                String::new()
            } else {
                format!(" (it logged: {})", tried.logs.join(" | "))
            };
            Err(ApiError::Unprocessable(format!(
                "Transform failed on the sample: {error}{logs}"
            )))
        }
    }
}

/// The sample's headers as the inbound endpoints pass them on: names in
/// lowercase, without the credentials a request is authenticated with.
fn plugin_headers(headers: &BTreeMap<String, String>) -> BTreeMap<String, &str> {
    headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .filter(|(name, _)| {
            !WITHHELD_FROM_TRANSFORMS
                .iter()
                .any(|withheld| withheld == name.as_str())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_headers_reach_the_transform_as_real_ones_would() {
        let sent = BTreeMap::from([
            ("X-HubSpot-Signature".to_owned(), "sig".to_owned()),
            ("Authorization".to_owned(), "Bearer sy_import_x".to_owned()),
            ("cookie".to_owned(), "a=b".to_owned()),
        ]);
        assert_eq!(
            plugin_headers(&sent),
            BTreeMap::from([("x-hubspot-signature".to_owned(), "sig")])
        );
    }
}
