//! `/api/v1/api-keys`: the account's admin API keys: list them (by name,
//! never the secret), create one (its secret shown once), revoke one (not
//! the last).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{AdminAuth, JsonBody};
use crate::domain::time::to_rfc3339;
use crate::storage::api_keys::{self, ApiKeyRecord};

/// An admin API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// True for the key this request was made with.
    pub current: bool,
}

impl ApiKeyView {
    fn new(record: ApiKeyRecord, auth: &AdminAuth) -> Self {
        Self {
            current: record.id == auth.actor.id,
            id: record.id,
            name: record.name,
            created_at: to_rfc3339(record.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyList {
    pub data: Vec<ApiKeyView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKey {
    /// Who or what uses the key, e.g. "CI" or "Ada's laptop": at most 200
    /// characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
}

/// A new key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyWithSecret {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// Send as `Authorization: Bearer <key>`. Stored only as a digest:
    /// copy it now.
    pub api_key: String,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

/// The account's admin API keys, oldest first.
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    responses((status = 200, body = ApiKeyList)))]
async fn list_keys(State(state): State<AppState>, auth: AdminAuth) -> ApiResult<Json<ApiKeyList>> {
    let keys = api_keys::list(&state.db, &auth.account_id).await?;
    Ok(Json(ApiKeyList {
        data: keys
            .into_iter()
            .map(|key| ApiKeyView::new(key, &auth))
            .collect(),
    }))
}

/// Creates a key and returns its secret, once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = CreateApiKey,
    responses((status = 201, body = ApiKeyWithSecret),
        (status = 422, body = ErrorBody, description = "The name breaks a rule")))]
async fn create_key(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<ApiKeyWithSecret>)> {
    let name = api_keys::parse_name(&request.name)?;
    let (record, secret) = api_keys::create(&state.db, &auth.account_id, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyWithSecret {
            key: ApiKeyView::new(record, &auth),
            api_key: secret,
        }),
    ))
}

/// Revokes a key at once (the key of this request too, if asked), with the
/// admin UI sessions opened with it. The account's last key is refused.
#[utoipa::path(delete, path = "/api/v1/api-keys/{key_id}", tag = "api-keys",
    params(("key_id" = String, Path)),
    responses((status = 204, description = "Revoked"),
        (status = 409, body = ErrorBody, description = "It is the account's last key")))]
async fn revoke_key(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(key_id): Path<String>,
) -> ApiResult<StatusCode> {
    api_keys::revoke(&state.db, &auth.account_id, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
