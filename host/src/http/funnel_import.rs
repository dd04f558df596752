//! The inbound funnel import contract: `POST|PATCH
//! /api/v1/webhook-import/update` and `.../batch-update`, authenticated by a
//! webhook import's Bearer token. Responses always carry `success`, and the
//! error messages are part of the contract (DESIGN.md).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequestParts, State};

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiError, with_auth_challenge};
use super::extract::{bearer_token, body_rejection, from_json_value, parse_json};
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::plugin::PluginKind;
use crate::domain::stage_matching::StageDirectory;
use crate::plugins::abi;
use crate::plugins::error::PluginError;
use crate::plugins::registry::{RegistryError, transform_records};
use crate::storage::funnel_updates::{FunnelUpdate, RecordFailure, UpdateRequest, UpdateStatus};
use crate::storage::webhook_imports;

/// Most records one batch request may carry.
pub(crate) const MAX_BATCH_RECORDS: usize = 100;
/// Most records a transform may produce from one request.
pub(crate) const MAX_TRANSFORM_RECORDS: usize = 1_000;

const LEAD_NOT_FOUND: &str = "Lead profile not found";
const INVALID_STAGE: &str = "Invalid funnel stage";

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
        let (status, error) = self.0.status_and_message();
        with_auth_challenge(
            (
                status,
                Json(InboundErrorBody {
                    success: false,
                    error,
                }),
            )
                .into_response(),
        )
    }
}

/// The webhook import an inbound request authenticated as.
#[derive(Debug, Clone)]
pub(crate) struct ImportAuth {
    pub account_id: String,
    /// How this import resolves stage names, read with the token.
    pub directory: Arc<StageDirectory>,
    /// The transform plugin's id and config (JSON text), when one is attached.
    pub transform: Option<(String, String)>,
    pub actor: Actor,
}

impl<S> FromRequestParts<S> for ImportAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = InboundError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("Authorization token required".into()))?;
        let invalid = || ApiError::Unauthorized("Invalid or inactive webhook import token".into());
        let (import, directory) =
            webhook_imports::authenticate(&state.db, &state.directory_cache, token)
                .await?
                .ok_or_else(invalid)?;
        if import.active == 0 {
            return Err(invalid().into());
        }
        Ok(ImportAuth {
            directory,
            transform: import.transform,
            account_id: import.account_id,
            actor: Actor {
                kind: ActorKind::WebhookImport,
                id: import.id,
                name: import.name,
            },
        })
    }
}

/// One funnel update: move this lead to this stage.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct FunnelUpdateRecord {
    /// The lead's id in Switchyard.
    pub lead_profile_uid: String,
    /// A stage title or a mapped name, compared ignoring case, spaces, `_` and `-`.
    pub funnel_stage: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct BatchUpdateRequest {
    /// 1 to 100 records, applied in order, each on its own.
    #[schema(value_type = Vec<FunnelUpdateRecord>)]
    pub records: Vec<Value>,
}

/// Whether a record changed the lead.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RecordStatus {
    Updated,
    Unchanged,
    Failed,
}

impl From<UpdateStatus> for RecordStatus {
    fn from(status: UpdateStatus) -> Self {
        match status {
            UpdateStatus::Updated => RecordStatus::Updated,
            UpdateStatus::Unchanged => RecordStatus::Unchanged,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SingleUpdateResponse {
    pub success: bool,
    pub status: RecordStatus,
    pub lead_profile_uid: String,
    /// The title of the stage the lead is now at.
    pub funnel_stage: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordResult {
    /// The record's place in `records`, from 0.
    pub index: usize,
    pub lead_profile_uid: Option<String>,
    pub status: RecordStatus,
    /// The title of the stage the lead is now at (applied records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funnel_stage: Option<String>,
    /// Why the record was not applied (failed records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchUpdateResponse {
    pub success: bool,
    pub results: Vec<RecordResult>,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_one))
        .routes(routes!(update_batch))
}

/// Moves one lead to a funnel stage.
#[utoipa::path(method(post, patch), path = "/api/v1/webhook-import/update", tag = "funnel-import",
    security(("webhook_import_token" = [])),
    request_body = FunnelUpdateRecord,
    responses(
        (status = 200, body = SingleUpdateResponse),
        (status = 400, body = InboundErrorBody), (status = 401, body = InboundErrorBody),
        (status = 404, body = InboundErrorBody), (status = 413, body = InboundErrorBody),
        (status = 422, body = InboundErrorBody)))]
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
    let record: FunnelUpdateRecord = read_json(body, state.max_body_bytes)?;
    let stage = auth
        .directory
        .resolve(&record.funnel_stage)
        .ok_or_else(|| ApiError::Unprocessable(INVALID_STAGE.into()))?;
    if !possible_lead_id(&record.lead_profile_uid) {
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
    };
    let results = state.funnel_writer.apply(request).await?;
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

/// Moves up to 100 leads; each record is applied on its own.
#[utoipa::path(method(post, patch), path = "/api/v1/webhook-import/batch-update", tag = "funnel-import",
    security(("webhook_import_token" = [])),
    request_body = BatchUpdateRequest,
    responses(
        (status = 200, body = BatchUpdateResponse),
        (status = 400, body = InboundErrorBody), (status = 401, body = InboundErrorBody),
        (status = 413, body = InboundErrorBody)))]
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
    Ok(Json(apply_records(&state, auth, request.records).await?))
}

/// Runs the import's transform on the request as it came (any body, any
/// content type) and applies the records it returns, each on its own.
async fn apply_transformed(
    state: &AppState,
    auth: ImportAuth,
    (plugin_id, config): (String, String),
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<BatchUpdateResponse, InboundError> {
    let body = body.map_err(|rejection| body_rejection(rejection, state.max_body_bytes))?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let document = abi::inbound_call(&config, plugin_headers(headers), &content_type, &body)
        .map_err(|error| ApiError::BadRequest(format!("Malformed JSON body: {error}")))?;
    let failed = |error: &dyn std::fmt::Display| -> InboundError {
        ApiError::Unprocessable(format!("Transform failed: {error}")).into()
    };
    let plugin = state
        .plugins
        .resolve(&auth.account_id, &plugin_id, PluginKind::InboundTransform)
        .await
        .map_err(|error| match error {
            // The plugin itself is at fault: the CRM should not retry.
            RegistryError::Plugin(error) if !matches!(error, PluginError::Busy(_)) => {
                failed(&error)
            }
            RegistryError::WrongKind { .. } => failed(&error),
            // Storage or overload: a server error the CRM may retry.
            other => ApiError::from(other).into(),
        })?;
    let call = state.plugins.call(&plugin, document).await;
    let records = match call.outcome.and_then(transform_records) {
        Ok(records) => records,
        Err(PluginError::Busy(reason)) => return Err(ApiError::Unavailable(reason).into()),
        Err(error) => return Err(failed(&error)),
    };
    if records.len() > MAX_TRANSFORM_RECORDS {
        return Err(failed(&format!(
            "it produced {} records; at most {MAX_TRANSFORM_RECORDS} are applied from one request",
            records.len()
        )));
    }
    apply_records(state, auth, records).await
}

/// Request headers as a transform sees them: names in lowercase and in
/// order, the last value of a repeated header, without the credentials the
/// request was authenticated with (and without values that are not text).
fn plugin_headers(headers: &HeaderMap) -> Vec<(&str, &str)> {
    let mut named: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| *name != AUTHORIZATION && *name != COOKIE)
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    // Stable: a repeated header's values stay in the order they came, and
    // the last one is kept.
    named.sort_by(|a, b| a.0.cmp(b.0));
    let mut unique: Vec<(&str, &str)> = Vec::with_capacity(named.len());
    for (name, value) in named {
        match unique.last_mut() {
            Some(last) if last.0 == name => last.1 = value,
            _ => unique.push((name, value)),
        }
    }
    unique
}

/// Applies records (each parsed and resolved on its own) and reports each.
async fn apply_records(
    state: &AppState,
    auth: ImportAuth,
    records: Vec<Value>,
) -> Result<BatchUpdateResponse, InboundError> {
    let (mut results, to_apply) = resolve_records(records, &auth.directory);
    let updates: Vec<FunnelUpdate> = to_apply.iter().map(|(_, update)| update.clone()).collect();
    let outcomes = state
        .funnel_writer
        .apply(UpdateRequest {
            account_id: auth.account_id,
            actor: auth.actor,
            updates,
        })
        .await?;
    for ((index, _), outcome) in to_apply.iter().zip(outcomes) {
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
    let count =
        |wanted: fn(&RecordStatus) -> bool| results.iter().filter(|r| wanted(&r.status)).count();
    Ok(BatchUpdateResponse {
        success: true,
        updated: count(|s| matches!(s, RecordStatus::Updated)),
        unchanged: count(|s| matches!(s, RecordStatus::Unchanged)),
        failed: count(|s| matches!(s, RecordStatus::Failed)),
        results,
    })
}

/// Parses and resolves each record on its own. Returns a result slot per
/// record (failed ones already filled in) and the updates to apply, with
/// their record index.
fn resolve_records(
    records: Vec<Value>,
    directory: &StageDirectory,
) -> (Vec<RecordResult>, Vec<(usize, FunnelUpdate)>) {
    let mut results = Vec::with_capacity(records.len());
    let mut to_apply = Vec::with_capacity(records.len());
    for (index, raw) in records.into_iter().enumerate() {
        let lead_profile_uid = raw
            .get("lead_profile_uid")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut result = RecordResult {
            index,
            lead_profile_uid,
            status: RecordStatus::Failed,
            funnel_stage: None,
            error: None,
        };
        match from_json_value::<FunnelUpdateRecord>(raw) {
            Err(error) => result.error = Some(error),
            Ok(record) => match directory.resolve(&record.funnel_stage) {
                None => result.error = Some(INVALID_STAGE.into()),
                Some(_) if !possible_lead_id(&record.lead_profile_uid) => {
                    result.error = Some(LEAD_NOT_FOUND.into());
                }
                Some(stage) => {
                    result.funnel_stage = Some(stage.title.clone());
                    to_apply.push((
                        index,
                        FunnelUpdate {
                            lead_id: record.lead_profile_uid,
                            stage_id: stage.id.clone(),
                        },
                    ));
                }
            },
        }
        results.push(result);
    }
    (results, to_apply)
}

/// Reads a JSON body whatever the `Content-Type` says: CRMs often send JSON
/// as `text/plain` or with no type at all, and what matters is whether the
/// body parses.
fn read_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    max_body_bytes: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| body_rejection(rejection, max_body_bytes))?;
    parse_json(&bytes)
}

/// Whether `uid` could be a lead id at all; anything else is "not found"
/// without asking the database (which may refuse to compare it, e.g. text
/// with NUL characters on PostgreSQL).
fn possible_lead_id(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= 200 && !uid.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_transform_sees_each_header_once_in_order_without_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert("x-crm", HeaderValue::from_static("hubspot"));
        headers.append("x-attempt", HeaderValue::from_static("1"));
        headers.append("x-attempt", HeaderValue::from_static("2"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer secret"));
        headers.insert(COOKIE, HeaderValue::from_static("session=secret"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        headers.insert(
            "x-binary",
            HeaderValue::from_bytes(b"caf\xe9").expect("a header value may be opaque bytes"),
        );
        assert_eq!(
            plugin_headers(&headers),
            vec![("accept", "*/*"), ("x-attempt", "2"), ("x-crm", "hubspot")]
        );
    }
}
