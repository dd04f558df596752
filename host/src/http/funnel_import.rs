//! The inbound funnel import contract: `POST|PATCH
//! /api/v1/webhook-import/update` and `.../batch-update`, authenticated by a
//! webhook import's Bearer token. Responses always carry `success`, and the
//! error messages are part of the contract (DESIGN.md).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequestParts, State};

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiError, with_auth_challenge, with_retry_after};
use super::extract::{bearer_token, body_rejection, from_json_value, parse_json};
use super::leads::UpdateLead;
use crate::domain::InvalidInput;
use crate::domain::actor::{Actor, ActorKind};
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadFields;
use crate::domain::plugin::{PluginKind, Transform};
use crate::domain::stage_matching::StageDirectory;
use crate::metrics;
use crate::metrics::record::{InboundFailure, InboundOutcome};
use crate::plugins::abi;
use crate::plugins::error::PluginError;
use crate::plugins::registry::{RegistryError, transform_records};
use crate::storage::funnel_updates::{FunnelUpdate, RecordFailure, UpdateRequest, UpdateStatus};
use crate::storage::lead_sync::{
    LeadMatch, LeadRecord, RecordSource, SyncFailure, SyncStatus, SyncingImport,
};
use crate::storage::webhook_imports;

/// Most records one batch request may carry.
pub(crate) const MAX_BATCH_RECORDS: usize = 100;
/// Most records a transform may produce from one request.
const MAX_TRANSFORM_RECORDS: usize = 1_000;

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

/// The webhook import an inbound request authenticated as.
#[derive(Debug, Clone)]
pub(crate) struct ImportAuth {
    pub account_id: String,
    /// How this import resolves stage names, read with the token.
    pub directory: Arc<StageDirectory>,
    /// The transform, when one is attached.
    pub transform: Option<Transform>,
    /// Whether the transform's lead records may create leads.
    pub create_leads: bool,
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
        // Flood control, before the body is read: nothing is written.
        let flood = &state.flood_control;
        flood
            .admit_import(&import.id, import.rate_limit)
            .and_then(|()| flood.admit_lead_write(&import.account_id))
            .map_err(|(refusal, error)| {
                metrics::record::inbound(InboundOutcome::Rejected(refusal));
                error
            })?;
        Ok(ImportAuth {
            directory,
            transform: import.transform,
            create_leads: import.create_leads,
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
    /// 1 to 100 records, applied in order, each on its own (more is a 413).
    #[schema(value_type = Vec<FunnelUpdateRecord>, min_items = 1, max_items = 100)]
    pub records: Vec<Value>,
}

/// A transform's lead record: find the lead (or create it), update the
/// named fields, then move it (lead sync; never accepted on the plain
/// endpoints).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncRecord {
    pub lead: LeadSyncBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncBody {
    /// How to find the lead: tried by uid, then external id, then email.
    #[serde(rename = "match")]
    pub matching: LeadSyncMatch,
    /// The fields to set; absent ones are left alone, `null` clears one.
    #[serde(default)]
    pub fields: UpdateLead,
    /// A stage title or mapped name; moves the lead by the funnel rules.
    pub funnel_stage: Option<String>,
}

/// One or more keys naming a lead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSyncMatch {
    pub lead_profile_uid: Option<String>,
    /// The CRM's own id for the lead; belongs to this import, and is stored
    /// on the lead the record creates or finds by email.
    pub external_id: Option<String>,
    pub email: Option<String>,
}

/// Whether a record changed the lead.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RecordStatus {
    /// A lead record created the lead (transforms only).
    Created,
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
    /// Leads created by lead records (present when a transform is attached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<usize>,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

/// What the single-update endpoint answers: one result, or with a
/// transform attached (which may produce many records) the batch answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Documents the two shapes `update_one` answers with.
pub(crate) enum UpdateResponse {
    Single(SingleUpdateResponse),
    Batch(BatchUpdateResponse),
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_one))
        .routes(routes!(update_batch))
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

/// Runs the import's transform on the request as it came (any body, any
/// content type) and applies the records it returns, each on its own.
async fn apply_transformed(
    state: &AppState,
    auth: ImportAuth,
    Transform {
        plugin_id,
        config_json: config,
    }: Transform,
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
        Err(error) => {
            metrics::record::inbound(InboundOutcome::Failed(InboundFailure::TransformFailed));
            return Err(failed(&error));
        }
    };
    if let Err(too_many) = check_record_count(&records) {
        return Err(failed(&too_many));
    }
    apply_records(state, auth, records, RecordKinds::WithLeadRecords).await
}

/// Which records a request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKinds {
    /// The plain endpoints' contract: `{lead_profile_uid, funnel_stage}` only.
    FunnelUpdates,
    /// A transform's output: lead records too.
    WithLeadRecords,
}

/// Refuses more records than one request applies (the endpoints' rule,
/// which the transform trial reports too).
pub(crate) fn check_record_count(records: &[Value]) -> Result<(), String> {
    if records.len() > MAX_TRANSFORM_RECORDS {
        return Err(format!(
            "it produced {} records; at most {MAX_TRANSFORM_RECORDS} are applied from one request",
            records.len()
        ));
    }
    Ok(())
}

/// The request headers a transform never sees: the credentials a request
/// is authenticated with (the endpoints' rule, which the transform trial
/// follows too).
pub(crate) const WITHHELD_FROM_TRANSFORMS: [HeaderName; 2] = [AUTHORIZATION, COOKIE];

/// Request headers as a transform sees them: names in lowercase and in
/// order, the last value of a repeated header, without the credentials the
/// request was authenticated with (and without values that are not text).
fn plugin_headers(headers: &HeaderMap) -> Vec<(&str, &str)> {
    let mut named: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| !WITHHELD_FROM_TRANSFORMS.contains(name))
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

/// Records parsed and resolved: a result slot per record (failed ones
/// already filled in) and the records to apply, with their index.
pub(crate) struct ResolvedRecords {
    pub(crate) results: Vec<RecordResult>,
    pub(crate) updates: Vec<(usize, FunnelUpdate)>,
    pub(crate) leads: Vec<(usize, LeadRecord)>,
}

/// Parses and resolves each record on its own.
pub(crate) fn resolve_records(
    records: Vec<Value>,
    directory: &StageDirectory,
    kinds: RecordKinds,
) -> ResolvedRecords {
    let mut resolved = ResolvedRecords {
        results: Vec::with_capacity(records.len()),
        updates: Vec::with_capacity(records.len()),
        leads: Vec::new(),
    };
    for (index, raw) in records.into_iter().enumerate() {
        let is_lead_record = kinds == RecordKinds::WithLeadRecords && raw.get("lead").is_some();
        let lead_profile_uid = if is_lead_record {
            raw.pointer("/lead/match/lead_profile_uid")
        } else {
            raw.get("lead_profile_uid")
        }
        .and_then(Value::as_str)
        .map(str::to_owned);
        let mut result = RecordResult {
            index,
            lead_profile_uid,
            status: RecordStatus::Failed,
            funnel_stage: None,
            error: None,
        };
        if is_lead_record {
            match resolve_lead_record(raw, directory) {
                Ok((record, stage_title)) => {
                    result.funnel_stage = stage_title;
                    resolved.leads.push((index, record));
                }
                Err(error) => result.error = Some(error),
            }
            resolved.results.push(result);
            continue;
        }
        match from_json_value::<FunnelUpdateRecord>(raw) {
            Err(error) => result.error = Some(error),
            Ok(record) => match directory.resolve(&record.funnel_stage) {
                None => result.error = Some(INVALID_STAGE.into()),
                Some(_) if !possible_lead_id(&record.lead_profile_uid) => {
                    result.error = Some(LEAD_NOT_FOUND.into());
                }
                Some(stage) => {
                    result.funnel_stage = Some(stage.title.clone());
                    resolved.updates.push((
                        index,
                        FunnelUpdate {
                            lead_id: record.lead_profile_uid,
                            stage_id: stage.id.clone(),
                        },
                    ));
                }
            },
        }
        resolved.results.push(result);
    }
    resolved
}

/// Parses one lead record and resolves its stage; returns it with the
/// stage's title, or the error that fails it (naming the field).
fn resolve_lead_record(
    raw: Value,
    directory: &StageDirectory,
) -> Result<(LeadRecord, Option<String>), String> {
    let LeadSyncRecord { lead } = from_json_value(raw)?;
    if lead.fields.funnel_stage_id.is_some() {
        return Err(
            "lead.fields.funnel_stage_id: set the stage with lead.funnel_stage instead".into(),
        );
    }
    let LeadSyncMatch {
        lead_profile_uid,
        external_id,
        email,
    } = lead.matching;
    let email = email
        .map(|email| EmailAddress::parse(&email))
        .transpose()
        .map_err(|invalid| format!("lead.match.email: {}", invalid.0))?;
    let lead_id = lead_profile_uid.filter(|uid| possible_lead_id(uid));
    let external_id = external_id.map(|id| id.trim().to_owned());
    if let Some(external_id) = &external_id
        && !(1..=200).contains(&external_id.len())
    {
        return Err("lead.match.external_id: must be 1 to 200 characters".into());
    }
    if lead_id.is_none() && external_id.is_none() && email.is_none() {
        return Err("lead.match: name the lead by lead_profile_uid, external_id or email".into());
    }
    let (stage_id, stage_title) = match &lead.funnel_stage {
        None => (None, None),
        Some(name) => {
            let stage = directory
                .resolve(name)
                .ok_or_else(|| INVALID_STAGE.to_owned())?;
            (Some(stage.id.clone()), Some(stage.title.clone()))
        }
    };
    let changes = lead.fields;
    let named_email = changes
        .email
        .as_ref()
        .and_then(Option::as_deref)
        .and_then(|named| EmailAddress::parse(named).ok());
    let default_email = email.clone();
    let fields = Arc::new(move |current: Option<LeadFields>| {
        let base = match current {
            Some(fields) => fields,
            None => new_lead_fields(&changes, default_email.as_ref())?,
        };
        changes.clone().apply(base)
    });
    let record = LeadRecord {
        matching: LeadMatch {
            lead_id,
            external_id,
            email,
        },
        fields,
        named_email,
        stage_id,
    };
    Ok((record, stage_title))
}

/// The fields a lead record starts from when it creates the lead: its
/// email (from `fields`, else from `match`), nothing else yet.
fn new_lead_fields(
    changes: &UpdateLead,
    match_email: Option<&EmailAddress>,
) -> Result<LeadFields, InvalidInput> {
    let email = match (&changes.email, match_email) {
        (Some(Some(email)), _) => EmailAddress::parse(email)?,
        (_, Some(email)) => email.clone(),
        _ => {
            return Err(InvalidInput(
                "email is required to create a lead (in fields or in match)".into(),
            ));
        }
    };
    Ok(LeadFields {
        email,
        company: None,
        first_name: None,
        last_name: None,
        phone: None,
        website: None,
        position: None,
        twitter: None,
        linkedin: None,
        notes: None,
        score: 0,
    })
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

    fn directory() -> StageDirectory {
        use crate::domain::stage_matching::ResolvedStage;
        StageDirectory::new(
            [],
            [ResolvedStage {
                id: "stage_1".into(),
                title: "Lead".into(),
            }],
        )
    }

    fn lead_error(record: Value) -> String {
        resolve_lead_record(record, &directory()).expect_err("the record is refused")
    }

    #[test]
    fn lead_records_name_what_is_wrong() {
        use serde_json::json;
        assert!(
            lead_error(json!({"lead": {"match": {"email": "nope"}}}))
                .starts_with("lead.match.email: email `nope` is not valid")
        );
        assert_eq!(
            lead_error(json!({"lead": {"match": {}}})),
            "lead.match: name the lead by lead_profile_uid, external_id or email"
        );
        assert_eq!(
            lead_error(json!({"lead": {"match": {"external_id": "1"}, "funnel_stage": "Nope"}})),
            INVALID_STAGE
        );
        assert!(
            lead_error(json!({"lead": {"match": {"external_id": "1"}, "fields": {"phone": 5}}}))
                .starts_with("lead.fields.phone: invalid type")
        );
        assert!(
            lead_error(
                json!({"lead": {"match": {"external_id": "1"}, "fields": {"nickname": "x"}}})
            )
            .contains("nickname")
        );
        assert!(
            lead_error(
                json!({"lead": {"match": {"external_id": "1"}, "fields": {"funnel_stage_id": "s"}}})
            )
            .contains("lead.funnel_stage")
        );
    }

    #[test]
    fn a_created_lead_takes_its_email_from_fields_or_match() {
        use serde_json::json;
        let (record, title) = resolve_lead_record(
            json!({"lead": {"match": {"email": "ada@example.com", "external_id": " 7 "},
                            "fields": {"first_name": "Ada"}, "funnel_stage": "lead"}}),
            &directory(),
        )
        .expect("a valid record");
        assert_eq!(title.as_deref(), Some("Lead"));
        assert_eq!(record.stage_id.as_deref(), Some("stage_1"));
        assert_eq!(record.matching.external_id.as_deref(), Some("7"));
        let created = (record.fields)(None).expect("creatable");
        assert_eq!(created.email.as_str(), "ada@example.com");
        assert_eq!(created.first_name.as_deref(), Some("Ada"));

        let (record, _) = resolve_lead_record(
            json!({"lead": {"match": {"external_id": "7"}, "fields": {"company": "Acme"}}}),
            &directory(),
        )
        .expect("a valid record");
        let refused = (record.fields)(None).expect_err("no email to create with");
        assert!(refused.0.contains("email is required"), "{}", refused.0);
    }
}
