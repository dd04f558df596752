//! `POST|PATCH /api/v1/webhook-import/update`: one funnel update, answered
//! with its result (or, with a transform attached, as the batch endpoint).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::ImportAuth;
use super::contract::{
    FunnelUpdateRecord, INVALID_STAGE, LEAD_NOT_FOUND, SingleUpdateResponse, UpdateResponse,
};
use super::error::{InboundError, InboundErrorBody};
use super::read_json;
use super::records::possible_lead_id;
use super::transform::apply_transformed;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::metrics;
use crate::metrics::record::{InboundFailure, InboundOutcome};
use crate::storage::funnel_updates::{FunnelUpdate, RecordFailure, UpdateRequest, UpdateStatus};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(update_one))
}

/// Moves one lead to a funnel stage. With a transform attached to the
/// import, takes any body (JSON, a form, text) and answers as the batch
/// endpoint does.
#[utoipa::path(method(post, patch), path = "/api/v1/webhook-import/update", tag = "funnel-import",
    security(("webhook_import_token" = [])),
    request_body = FunnelUpdateRecord,
    responses(
        (status = 200, body = UpdateResponse,
            description = "Applied (or, with a transform attached, each record's result)"),
        (status = 404, body = InboundErrorBody, description = "`Lead profile not found`"),
        (status = 422, body = InboundErrorBody, description = "`Invalid funnel stage`, or the transform failed"),
        (status = 503, body = InboundErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn update_one(
    State(state): State<AppState>,
    auth: ImportAuth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, InboundError> {
    if let Some(transform) = auth.transform.clone() {
        let response = apply_transformed(&state, auth, transform, &headers, body).await?;
        return Ok(Json(response).into_response());
    }
    let failed = |reason| metrics::record::inbound(InboundOutcome::Failed(reason));
    let record: FunnelUpdateRecord = read_json(body, state.max_body_bytes)
        .inspect_err(|_| failed(InboundFailure::InvalidRecord))?;
    let stage = auth
        .directory
        .resolve(&record.funnel_stage)
        .ok_or_else(|| ApiError::Unprocessable(INVALID_STAGE.into()))
        .inspect_err(|_| failed(InboundFailure::InvalidStage))?;
    if !possible_lead_id(&record.lead_profile_uid) {
        failed(InboundFailure::LeadNotFound);
        return Err(ApiError::NotFound(LEAD_NOT_FOUND.into()).into());
    }
    let update = FunnelUpdate {
        lead_id: record.lead_profile_uid,
        stage_id: stage.id.clone(),
    };
    let request = UpdateRequest {
        account_id: auth.account_id,
        actor: auth.actor,
        updates: vec![update.clone()],
        lead_records: None,
    };
    let results = state.funnel_writer.apply(request).await?;
    metrics::record::inbound(match results.first() {
        Some(Ok(UpdateStatus::Updated)) => InboundOutcome::Updated,
        Some(Ok(UpdateStatus::Unchanged)) => InboundOutcome::Unchanged,
        Some(Err(RecordFailure::LeadNotFound)) => {
            InboundOutcome::Failed(InboundFailure::LeadNotFound)
        }
        Some(Err(RecordFailure::InvalidStage)) | None => {
            InboundOutcome::Failed(InboundFailure::InvalidStage)
        }
    });
    match results.first() {
        Some(Ok(status)) => Ok(Json(SingleUpdateResponse {
            success: true,
            status: (*status).into(),
            lead_profile_uid: update.lead_id,
            funnel_stage: stage.title.clone(),
        })
        .into_response()),
        Some(Err(RecordFailure::LeadNotFound)) => {
            Err(ApiError::NotFound(LEAD_NOT_FOUND.into()).into())
        }
        Some(Err(RecordFailure::InvalidStage)) | None => {
            Err(ApiError::Unprocessable(INVALID_STAGE.into()).into())
        }
    }
}
