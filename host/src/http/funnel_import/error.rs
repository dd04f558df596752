//! The error of the inbound endpoints: the API's error, answered as
//! `{"success": false, "error": "..."}` with the same status and headers.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, with_auth_challenge, with_retry_after};

/// An error of the inbound endpoints: `{"success": false, "error": "..."}`.
#[derive(Debug)]
pub(crate) struct InboundError(ApiError);

impl<E: Into<ApiError>> From<E> for InboundError {
    fn from(error: E) -> Self {
        InboundError(error.into())
    }
}

/// The body of every inbound error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InboundErrorBody {
    /// Always false.
    pub success: bool,
    pub error: String,
}

impl IntoResponse for InboundError {
    fn into_response(self) -> Response {
        let retry_after = self.0.retry_after_seconds();
        let (status, error) = self.0.status_and_message();
        let response = with_auth_challenge(
            (
                status,
                Json(InboundErrorBody {
                    success: false,
                    error,
                }),
            )
                .into_response(),
        );
        with_retry_after(response, retry_after)
    }
}
