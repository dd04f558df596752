//! The API's error type: every failure becomes JSON `{"error": "..."}` with
//! the matching status. Internal errors are logged in full and answered with
//! a generic message, so no SQL or stack detail leaks to callers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::InvalidInput;
use crate::storage::StoreError;

/// Body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, and where possible how to fix it.
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// Malformed JSON, a missing or ill-typed field, a bad query parameter.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed input that breaks a rule (an invalid email, say).
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unavailable(String),
    /// Flood control refused the request before anything was written
    /// (an import over its rate limit, an account over its cap on
    /// undelivered deliveries); answered with `Retry-After`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_seconds: u64,
    },
    #[error("internal error: {0}")]
    Internal(#[source] anyhow::Error),
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ApiError {
    /// Seconds a client should wait before retrying, for `Retry-After`.
    pub(crate) fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            _ => None,
        }
    }

    /// The status and the message to show; internal errors are logged here
    /// and replaced by a generic message.
    pub(crate) fn status_and_message(self) -> (StatusCode, String) {
        let status = self.status();
        let message = match self {
            ApiError::Internal(error) => {
                tracing::error!(error = ?error, "request failed with an internal error");
                "Internal server error. The details have been logged; please retry or contact the operator.".to_owned()
            }
            other => other.to_string(),
        };
        (status, message)
    }
}

/// Adds `WWW-Authenticate: Bearer` to 401 responses, as RFC 6750 asks.
pub(crate) fn with_auth_challenge(mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Adds `Retry-After: <seconds>` when the error asks the client to wait.
pub(crate) fn with_retry_after(
    mut response: Response,
    retry_after_seconds: Option<u64>,
) -> Response {
    if let Some(seconds) = retry_after_seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after_seconds();
        let (status, message) = self.status_and_message();
        let response =
            with_auth_challenge((status, Json(ErrorBody { error: message })).into_response());
        with_retry_after(response, retry_after)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(message) => ApiError::NotFound(message),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Invalid(invalid) => ApiError::Unprocessable(invalid.0),
            StoreError::Database(error) if crate::storage::is_nul_in_text(&error) => {
                ApiError::BadRequest("Text must not contain NUL (\\u0000) characters".into())
            }
            StoreError::Database(error) => ApiError::Internal(error.into()),
            error @ (StoreError::Sqlite(_) | StoreError::CommitFailed(_)) => {
                ApiError::Internal(error.into())
            }
        }
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        ApiError::Unprocessable(error.0)
    }
}

impl From<crate::plugins::registry::RegistryError> for ApiError {
    fn from(error: crate::plugins::registry::RegistryError) -> Self {
        use crate::plugins::error::PluginError;
        use crate::plugins::registry::RegistryError;
        match error {
            RegistryError::Store(error) => error.into(),
            RegistryError::Plugin(PluginError::InvalidModule(reason)) => {
                ApiError::Unprocessable(format!("Invalid plugin: {reason}"))
            }
            RegistryError::Plugin(PluginError::InvalidScript(reason)) => {
                ApiError::Unprocessable(format!("Invalid script: {reason}"))
            }
            RegistryError::Plugin(PluginError::Busy(reason)) => ApiError::Unavailable(reason),
            RegistryError::Plugin(other) => {
                ApiError::Internal(anyhow::anyhow!("plugin compilation failed: {other}"))
            }
            failed @ RegistryError::ThreadFailed { .. } => {
                ApiError::Internal(anyhow::anyhow!("plugin compilation failed: {failed}"))
            }
            wrong_kind @ RegistryError::WrongKind { .. } => {
                ApiError::Unprocessable(wrong_kind.to_string())
            }
        }
    }
}
