//! Request extractors shared by every handler: admin authentication, and
//! JSON bodies and query strings whose rejections are JSON errors naming the
//! field at fault.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::domain::actor::{Actor, ActorKind};
use crate::storage::accounts;

/// The caller of an admin endpoint, identified by an admin API key. Taking
/// this as a handler parameter is what makes the endpoint require one.
#[derive(Debug, Clone)]
pub(crate) struct AdminAuth {
    pub account_id: String,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for AdminAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let key = bearer_token(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "Admin API key required: send the header `Authorization: Bearer <admin API key>`"
                    .into(),
            )
        })?;
        let owner = accounts::find_api_key(&state.db, key)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("Invalid admin API key".into()))?;
        Ok(AdminAuth {
            account_id: owner.account_id,
            actor: Actor {
                kind: ActorKind::AdminApiKey,
                id: owner.key_id,
                name: owner.key_name,
            },
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A JSON body deserialised into `T`. Unlike axum's `Json`, every rejection
/// is a JSON error, and type errors name the field (`score: invalid type:
/// string "high", expected i64`).
#[derive(Debug, Clone)]
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_content_type(request.headers())?;
        let max_body_bytes = AppState::from_ref(state).max_body_bytes;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| body_rejection(rejection, max_body_bytes))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Refuses a request whose `Content-Type` is not JSON (`application/json`
/// or `application/*+json`).
pub(crate) fn require_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "Expected a JSON body: send the header `Content-Type: application/json`".into(),
        ))
    }
}

/// Maps a failure to read the body: over the size limit
/// (`max_body_bytes`, the server's `--max-body-bytes`) is a 413 that says
/// the limit and how to raise it.
pub(crate) fn body_rejection(rejection: BytesRejection, max_body_bytes: usize) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(format!(
            "The request body is larger than this server accepts ({max_body_bytes} bytes); \
             start the server with a larger --max-body-bytes (or SWITCHYARD_MAX_BODY_BYTES) \
             to accept it"
        ))
    } else {
        ApiError::BadRequest(format!("Could not read the request body: {rejection}"))
    }
}

/// Parses `bytes` as JSON into `T`, with an error naming the field at fault.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("Malformed JSON body: {inner}"))
        } else {
            ApiError::BadRequest(format!("Invalid JSON body: {}", describe_at(&path, &inner)))
        }
    })
}

/// Converts an already parsed JSON value into `T`, with an error naming the
/// field at fault (`missing field `funnel_stage``).
pub(crate) fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        describe_at(&path, error.inner())
    })
}

fn describe_at(path: &str, error: &dyn std::fmt::Display) -> String {
    if path == "." {
        error.to_string()
    } else {
        format!("{path}: {error}")
    }
}

/// A query string deserialised into `T`, rejected as a JSON 400.
#[derive(Debug, Clone)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| ApiQuery(query.0))
            .map_err(|rejection: QueryRejection| {
                ApiError::BadRequest(format!("Invalid query string: {}", rejection.body_text()))
            })
    }
}
