//! `POST|PATCH /api/v1/webhook-import/batch-update`, and what every
//! request of many records goes through (a transform's too): applying the
//! records each on its own and answering each one's result with the counts.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::ImportAuth;
use super::contract::{
    BatchUpdateRequest, BatchUpdateResponse, INVALID_STAGE, LEAD_NOT_FOUND, MAX_BATCH_RECORDS,
    RecordStatus,
};
use super::error::{InboundError, InboundErrorBody};
use super::read_json;
use super::records::{RecordKinds, resolve_records};
use super::transform::apply_transformed;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::metrics;
use crate::metrics::record::{InboundFailure, InboundOutcome};
use crate::storage::funnel_updates::{FunnelUpdate, RecordFailure, UpdateRequest};
use crate::storage::lead_sync::{LeadRecord, RecordSource, SyncFailure, SyncStatus, SyncingImport};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(update_batch))
}

/// Moves up to 100 leads; each record is applied on its own.
#[utoipa::path(method(post, patch), path = "/api/v1/webhook-import/batch-update", tag = "funnel-import",
    security(("webhook_import_token" = [])),
    request_body = BatchUpdateRequest,
    responses(
        (status = 200, body = BatchUpdateResponse),
        (status = 413, body = InboundErrorBody, description = "More than 100 records, or a body over the size limit"),
        (status = 422, body = InboundErrorBody, description = "The transform failed"),
        (status = 503, body = InboundErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn update_batch(
    State(state): State<AppState>,
    auth: ImportAuth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchUpdateResponse>, InboundError> {
    if let Some(transform) = auth.transform.clone() {
        return Ok(Json(
            apply_transformed(&state, auth, transform, &headers, body).await?,
        ));
    }
    let request: BatchUpdateRequest = read_json(body, state.max_body_bytes)?;
    if request.records.is_empty() {
        return Err(ApiError::BadRequest("records must contain at least one record".into()).into());
    }
    if request.records.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::PayloadTooLarge(format!(
            "Too many records: a batch holds at most {MAX_BATCH_RECORDS}, this one has {}",
            request.records.len()
        ))
        .into());
    }
    Ok(Json(
        apply_records(&state, auth, request.records, RecordKinds::FunnelUpdates).await?,
    ))
}

/// Applies records (each parsed and resolved on its own) and reports each.
pub(super) async fn apply_records(
    state: &AppState,
    auth: ImportAuth,
    records: Vec<Value>,
    kinds: RecordKinds,
) -> Result<BatchUpdateResponse, InboundError> {
    let resolved = resolve_records(records, &auth.directory, kinds);
    let mut results = resolved.results;
    let updates: Vec<FunnelUpdate> = resolved
        .updates
        .iter()
        .map(|(_, update)| update.clone())
        .collect();
    let lead_records: Vec<LeadRecord> = resolved
        .leads
        .iter()
        .map(|(_, record)| record.clone())
        .collect();
    let lead_records = (kinds == RecordKinds::WithLeadRecords).then(|| {
        let import = SyncingImport {
            import_id: auth.actor.id.clone(),
            create_leads: auth.create_leads,
        };
        (RecordSource::Import(import), lead_records)
    });
    let outcomes = state
        .funnel_writer
        .apply_with_leads(UpdateRequest {
            account_id: auth.account_id,
            actor: auth.actor,
            updates,
            lead_records,
        })
        .await?;
    for ((index, _), outcome) in resolved.updates.iter().zip(outcomes.updates) {
        let result = &mut results[*index];
        match outcome {
            Ok(status) => result.status = status.into(),
            Err(failure) => {
                result.status = RecordStatus::Failed;
                result.funnel_stage = None;
                result.error = Some(
                    match failure {
                        RecordFailure::LeadNotFound => LEAD_NOT_FOUND,
                        RecordFailure::InvalidStage => INVALID_STAGE,
                    }
                    .into(),
                );
            }
        }
    }
    for ((index, _), outcome) in resolved.leads.iter().zip(outcomes.leads) {
        let result = &mut results[*index];
        match outcome {
            Ok(synced) => {
                result.lead_profile_uid = Some(synced.lead_id);
                result.status = match synced.status {
                    SyncStatus::Created => RecordStatus::Created,
                    SyncStatus::Updated => RecordStatus::Updated,
                    SyncStatus::Unchanged => RecordStatus::Unchanged,
                };
            }
            Err(failure) => {
                result.status = RecordStatus::Failed;
                result.funnel_stage = None;
                result.error = Some(match failure {
                    SyncFailure::LeadNotFound => LEAD_NOT_FOUND.into(),
                    SyncFailure::InvalidStage => INVALID_STAGE.into(),
                    SyncFailure::CreationOff => "No lead matches this record, and this import \
                        does not create leads (set its create_leads to true to allow it)"
                        .into(),
                    SyncFailure::InvalidField(message) => format!("lead.fields: {message}"),
                    SyncFailure::EmailTaken { email, .. } => {
                        format!("lead.fields.email: another lead already has email {email}")
                    }
                    SyncFailure::ExternalIdTaken(id) => format!(
                        "lead.match.external_id: another lead already has external id {id} \
                         for this import"
                    ),
                });
            }
        }
    }
    for result in &results {
        metrics::record::inbound(match result.status {
            RecordStatus::Created => InboundOutcome::Created,
            RecordStatus::Updated => InboundOutcome::Updated,
            RecordStatus::Unchanged => InboundOutcome::Unchanged,
            RecordStatus::Failed => InboundOutcome::Failed(InboundFailure::of_message(
                result.error.as_deref().unwrap_or_default(),
            )),
        });
    }
    let count =
        |wanted: fn(&RecordStatus) -> bool| results.iter().filter(|r| wanted(&r.status)).count();
    Ok(BatchUpdateResponse {
        success: true,
        created: (kinds == RecordKinds::WithLeadRecords)
            .then(|| count(|s| matches!(s, RecordStatus::Created))),
        updated: count(|s| matches!(s, RecordStatus::Updated)),
        unchanged: count(|s| matches!(s, RecordStatus::Unchanged)),
        failed: count(|s| matches!(s, RecordStatus::Failed)),
        results,
    })
}
