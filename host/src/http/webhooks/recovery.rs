//! `POST /api/v1/webhooks/{webhook_id}/recover`: sends a webhook's failed
//! deliveries again, all those since a time, a bounded number per call,
//! with the counts before and after (or only the count, as a dry run).
//! [`recover`] is the one implementation; the admin UI's "Recover failed
//! deliveries" calls it too.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::deliveries::check_resendable;
use crate::domain::time::to_rfc3339;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::http::integers;
use crate::storage::deliveries;
use crate::storage::webhooks;

/// The most deliveries one recovery queues, so that one request neither
/// holds the writer long nor floods a receiver that just came back; call
/// again for the rest.
pub(crate) const MAX_RECOVER: i64 = 1_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecoverRequest {
    /// RFC 3339, e.g. `2026-11-30T08:00:00Z`: deliveries created at or
    /// after it.
    #[schema(format = DateTime)]
    pub since: String,
    /// At most this many are queued, oldest first: 1 to 1000 (default 1000).
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub limit: Option<i64>,
    /// Only count them; nothing is queued.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a recovery found and did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecoverView {
    pub since: String,
    /// Failed deliveries since `since`, before this call.
    pub failed: i64,
    /// Queued to be sent again now (0 for a dry run).
    pub requeued: u64,
    /// Still failed after this call: recover again to queue them.
    pub remaining: i64,
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recover_deliveries))
}

/// Sends the webhook's failed deliveries since a time again (at most
/// `limit`, oldest first), each with its own message id and the same body,
/// then retries on the schedule, as a resend does. The messages of a failed
/// batch are sent one by one. Refused for lightweight-log and inactive
/// webhooks, like a resend.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/recover", tag = "webhooks",
    params(("webhook_id" = String, Path)), request_body = RecoverRequest,
    responses((status = 202, body = RecoverView, description = "Queued"),
        (status = 200, body = RecoverView, description = "Dry run: counted only"),
        (status = 409, body = ErrorBody, description = "The webhook keeps lightweight logs, or is inactive")))]
async fn recover_deliveries(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    JsonBody(request): JsonBody<RecoverRequest>,
) -> ApiResult<(StatusCode, Json<RecoverView>)> {
    let since = DateTime::parse_from_rfc3339(request.since.trim())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "since must be an RFC 3339 time such as 2026-11-30T08:00:00Z, not {:?}",
                request.since
            ))
        })?
        .timestamp_micros();
    let limit = request.limit.unwrap_or(MAX_RECOVER);
    if !(1..=MAX_RECOVER).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_RECOVER}"
        )));
    }
    let mode = if request.dry_run {
        Recovery::Count
    } else {
        Recovery::Requeue { limit }
    };
    let view = recover(&state, &auth.account_id, &webhook_id, since, mode).await?;
    let status = if request.dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(view)))
}

/// Whether a recovery only counts or also queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recovery {
    Count,
    Requeue { limit: i64 },
}

/// Counts the webhook's deliveries that failed since `since` (µs) and, for
/// [`Recovery::Requeue`], queues up to `limit` of them to be sent again.
pub(crate) async fn recover(
    state: &AppState,
    account_id: &str,
    webhook_id: &str,
    since: i64,
    mode: Recovery,
) -> ApiResult<RecoverView> {
    let webhook = webhooks::get(&state.db, account_id, webhook_id).await?;
    check_resendable(&webhook)?;
    let failed = deliveries::count_failed_since(&state.db, account_id, webhook_id, since).await?;
    let requeued = match mode {
        Recovery::Count => 0,
        Recovery::Requeue { limit } => {
            deliveries::requeue_failed_since(&state.db, account_id, webhook_id, since, limit)
                .await?
        }
    };
    let remaining = match mode {
        Recovery::Count => failed,
        Recovery::Requeue { .. } => {
            deliveries::count_failed_since(&state.db, account_id, webhook_id, since).await?
        }
    };
    Ok(RecoverView {
        since: to_rfc3339(since),
        failed,
        requeued,
        remaining,
    })
}
