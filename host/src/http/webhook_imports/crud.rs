//! Creating (the token shown once), listing, reading, changing and
//! deleting webhook imports; regenerating the token, activating and
//! deactivating.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::views::{ImportRateLimit, WebhookImportList, WebhookImportView, WebhookImportWithToken};
use crate::http::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::storage::webhook_imports;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_imports, create_import))
        .routes(routes!(get_import, rename_import, delete_import))
        .routes(routes!(regenerate_token))
        .routes(routes!(activate_import))
        .routes(routes!(deactivate_import))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookImportName {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// Let lead records that match no lead create one (default false).
    #[serde(default)]
    pub create_leads: bool,
    /// Limit the inbound requests it accepts (default: no limit).
    #[serde(default)]
    pub rate_limit: Option<ImportRateLimit>,
}

/// The settings to change; absent ones stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookImportChanges {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// Let lead records that match no lead create one.
    pub create_leads: Option<bool>,
    /// A new inbound rate limit; `null` lifts the limit.
    #[serde(default, deserialize_with = "crate::http::present")]
    #[schema(value_type = Option<ImportRateLimit>, nullable, required = false)]
    pub rate_limit: Option<Option<ImportRateLimit>>,
}

/// Every webhook import of the account.
#[utoipa::path(get, path = "/api/v1/webhook-imports", tag = "webhook-imports",
    responses((status = 200, body = WebhookImportList)))]
async fn list_imports(
    State(state): State<AppState>,
    auth: AdminAuth,
) -> ApiResult<Json<WebhookImportList>> {
    let imports = webhook_imports::list(&state.db, &auth.account_id).await?;
    Ok(Json(WebhookImportList {
        data: imports
            .into_iter()
            .map(|import| WebhookImportView::new(import, &state.public_url))
            .collect(),
    }))
}

/// Creates an inactive import and returns its token, once.
#[utoipa::path(post, path = "/api/v1/webhook-imports", tag = "webhook-imports",
    request_body = WebhookImportName,
    responses((status = 201, body = WebhookImportWithToken),
        (status = 422, body = ErrorBody, description = "The name or the rate limit breaks a rule")))]
async fn create_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<WebhookImportName>,
) -> ApiResult<(StatusCode, Json<WebhookImportWithToken>)> {
    let name = crate::domain::parse_name(&request.name)?;
    let rate_limit = request.rate_limit.map(ImportRateLimit::parse).transpose()?;
    let (mut import, token) = webhook_imports::create(&state.db, &auth.account_id, &name).await?;
    if rate_limit.is_some() {
        import =
            webhook_imports::set_rate_limit(&state.db, &auth.account_id, &import.id, rate_limit)
                .await?;
    }
    if request.create_leads {
        import = webhook_imports::set_create_leads(&state.db, &auth.account_id, &import.id, true)
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(WebhookImportWithToken {
            import: WebhookImportView::new(import, &state.public_url),
            token,
        }),
    ))
}

/// One import (without its token).
#[utoipa::path(get, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn get_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import = webhook_imports::get(&state.db, &auth.account_id, &import_id).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Renames an import, turns lead creation on or off, or sets its rate
/// limit.
#[utoipa::path(patch, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = WebhookImportChanges,
    responses((status = 200, body = WebhookImportView),
        (status = 422, body = ErrorBody, description = "The name or the rate limit breaks a rule")))]
async fn rename_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<WebhookImportChanges>,
) -> ApiResult<Json<WebhookImportView>> {
    let name = request
        .name
        .as_deref()
        .map(crate::domain::parse_name)
        .transpose()?;
    let rate_limit = request
        .rate_limit
        .map(|limit| limit.map(ImportRateLimit::parse).transpose())
        .transpose()?;
    let mut import = webhook_imports::get(&state.db, &auth.account_id, &import_id).await?;
    if let Some(rate_limit) = rate_limit {
        import =
            webhook_imports::set_rate_limit(&state.db, &auth.account_id, &import_id, rate_limit)
                .await?;
    }
    if let Some(name) = name {
        import = webhook_imports::rename(&state.db, &auth.account_id, &import_id, &name).await?;
    }
    if let Some(create_leads) = request.create_leads {
        import = webhook_imports::set_create_leads(
            &state.db,
            &auth.account_id,
            &import_id,
            create_leads,
        )
        .await?;
    }
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Deletes an import and its mappings; its token stops working at once.
#[utoipa::path(delete, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<StatusCode> {
    webhook_imports::delete(&state.db, &auth.account_id, &import_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new token; the old one is refused from now on.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/regenerate-token", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportWithToken)))]
async fn regenerate_token(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportWithToken>> {
    let (import, token) =
        webhook_imports::regenerate_token(&state.db, &auth.account_id, &import_id).await?;
    Ok(Json(WebhookImportWithToken {
        import: WebhookImportView::new(import, &state.public_url),
        token,
    }))
}

/// Starts accepting inbound requests with the import's token.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/activate", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn activate_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import = webhook_imports::set_active(&state.db, &auth.account_id, &import_id, true).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Refuses inbound requests until activated again; every setting is kept.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/deactivate", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn deactivate_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import =
        webhook_imports::set_active(&state.db, &auth.account_id, &import_id, false).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}
