//! Creating, reading, changing and deleting webhooks; activating,
//! deactivating, and regenerating the signing secret.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::input::{WebhookInput, check_settings};
use super::views::{WebhookList, WebhookView};
use crate::domain::webhook::WebhookSettings;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::storage::webhooks;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(activate_webhook))
        .routes(routes!(deactivate_webhook))
        .routes(routes!(regenerate_secret))
}

/// Every webhook of the account.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList)))]
async fn list_webhooks(
    State(state): State<AppState>,
    auth: AdminAuth,
) -> ApiResult<Json<WebhookList>> {
    let webhooks = webhooks::list(&state.db, &auth.account_id).await?;
    Ok(Json(WebhookList {
        data: webhooks.into_iter().map(WebhookView::from).collect(),
    }))
}

/// Creates a webhook (active unless `active: false`) with a new signing
/// secret.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, body = WebhookView),
        (status = 422, body = ErrorBody, description = "A field is missing or breaks a rule (the message names it)")))]
async fn create_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(input): JsonBody<WebhookInput>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    for (field, missing) in [
        ("name", input.name.is_none()),
        ("url", input.url.is_none()),
        ("events", input.events.is_none()),
    ] {
        if missing {
            return Err(ApiError::Unprocessable(format!(
                "{field} is required to create a webhook"
            )));
        }
    }
    let settings = input.apply(WebhookSettings::default())?;
    check_settings(&state, &auth, &settings).await?;
    let webhook = webhooks::create(&state.db, &auth.account_id, &settings).await?;
    Ok((StatusCode::CREATED, Json(webhook.into())))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = WebhookView)))]
async fn get_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(
        webhooks::get(&state.db, &auth.account_id, &webhook_id)
            .await?
            .into(),
    ))
}

/// Changes the fields given; the others keep their values.
#[utoipa::path(patch, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)), request_body = WebhookInput,
    responses((status = 200, body = WebhookView),
        (status = 409, body = ErrorBody, description = "The change is valid by itself but not with the webhook's current settings (batching with its method or format, say): send the other fields in the same request"),
        (status = 422, body = ErrorBody, description = "A field breaks a rule (the message names it)")))]
async fn update_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> ApiResult<Json<WebhookView>> {
    let current = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    let settings = input.apply_change(current.settings)?;
    check_settings(&state, &auth, &settings).await?;
    let webhook = webhooks::update(&state.db, &auth.account_id, &webhook_id, &settings).await?;
    Ok(Json(webhook.into()))
}

/// Deletes a webhook with its deliveries and logs.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state.db, &auth.account_id, &webhook_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activates the webhook, clearing the reason Switchyard deactivated it;
/// deliveries held while it was inactive are sent.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/activate", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = WebhookView)))]
async fn activate_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = webhooks::set_active(&state.db, &auth.account_id, &webhook_id, true).await?;
    Ok(Json(webhook.into()))
}

/// Deactivates the webhook: no deliveries are made for new events, and
/// those already waiting are held until it is activated again.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/deactivate", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = WebhookView)))]
async fn deactivate_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = webhooks::set_active(&state.db, &auth.account_id, &webhook_id, false).await?;
    Ok(Json(webhook.into()))
}

/// Replaces the signing secret; requests are signed with the new one from
/// now on.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/regenerate-secret", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = WebhookView)))]
async fn regenerate_secret(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = webhooks::regenerate_secret(&state.db, &auth.account_id, &webhook_id).await?;
    Ok(Json(webhook.into()))
}
