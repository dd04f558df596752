//! Attaching a transform to an import (tried on a sample request first,
//! when one is given) and detaching it.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::transform_test::{self, InboundSample};
use super::views::{ImportTransform, WebhookImportView};
use crate::domain::plugin::PluginKind;
use crate::http::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::storage::webhook_imports::{self, WebhookImport};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_transform, remove_transform))
}

/// A transform to attach, optionally tried on a sample request first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttachTransform {
    /// An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
    pub plugin_id: String,
    /// Passed to the plugin on every call.
    #[serde(default)]
    pub config: Value,
    /// A request the CRM would send: the transform is attached only if it
    /// returns records for it, else the answer is a 422 with the plugin's
    /// error (see `POST .../transform/test` for the records themselves).
    pub sample: Option<InboundSample>,
}

/// Attaches a transform: from now on both inbound endpoints accept any body
/// and the plugin turns it into funnel updates. With a `sample`, the
/// transform is first run on it and attached only if it returns records.
#[utoipa::path(put, path = "/api/v1/webhook-imports/{import_id}/transform", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = AttachTransform,
    responses((status = 200, body = WebhookImportView),
        (status = 422, body = ErrorBody, description = "The plugin is not an inbound transform or no longer compiles, or it failed on the sample (the message has its error)"),
        (status = 503, body = ErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn set_transform(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<AttachTransform>,
) -> ApiResult<Json<WebhookImportView>> {
    let transform = ImportTransform {
        plugin_id: request.plugin_id,
        config: request.config,
    };
    let import = attach_transform(
        &state,
        &auth.account_id,
        &import_id,
        &transform,
        request.sample.as_ref(),
    )
    .await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Attaches a transform to an import, once the plugin is known to be an
/// inbound transform that compiles and, given a sample request, returns
/// records for it (the API's and the admin UI's).
pub(crate) async fn attach_transform(
    state: &AppState,
    account_id: &str,
    import_id: &str,
    transform: &ImportTransform,
    sample: Option<&InboundSample>,
) -> ApiResult<WebhookImport> {
    let import = webhook_imports::get(&state.db, account_id, import_id).await?;
    // Refuses unknown plugins, payload builders, and modules that no longer compile.
    state
        .plugins
        .resolve(
            account_id,
            &transform.plugin_id,
            PluginKind::InboundTransform,
        )
        .await?;
    if let Some(sample) = sample {
        transform_test::refuse_if_failing(
            state,
            account_id,
            &import,
            &transform.plugin_id,
            &transform.config,
            sample,
        )
        .await?;
    }
    Ok(webhook_imports::set_transform(
        &state.db,
        account_id,
        import_id,
        Some((&transform.plugin_id, &transform.config)),
    )
    .await?)
}

/// Detaches the transform: the endpoints expect `{lead_profile_uid, funnel_stage}` again.
#[utoipa::path(delete, path = "/api/v1/webhook-imports/{import_id}/transform", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn remove_transform(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import =
        webhook_imports::set_transform(&state.db, &auth.account_id, &import_id, None).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}
