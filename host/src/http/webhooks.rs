//! `/api/v1/webhooks`: outbound subscriptions. Create, list, read, update,
//! delete; activate, deactivate, regenerate the signing secret; preview a
//! payload, send a test event; list deliveries, read one with its
//! attempts, resend one.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{AdminAuth, ApiQuery, JsonBody, parse_json};
use crate::domain::InvalidInput;
use crate::domain::actor::Actor;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::time::{now_micros, to_rfc3339};
use crate::domain::webhook::{
    BatchMode, Conditions, EventName, PayloadFormat, WebhookAuth, WebhookMethod, WebhookSettings,
    check_retry_schedule, parse_event_list, parse_timeout,
};
use crate::outbound::payload::{Envelope, sample_event};
use crate::storage::deliveries::{self, Attempt, Delivery};
use crate::storage::funnel_stages;
use crate::storage::leads::LeadStageView;
use crate::storage::webhooks::{self, Webhook};

/// A webhook. Auth credentials are shown redacted; the signing secret is
/// shown, since receivers need it to verify signatures.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub method: WebhookMethod,
    pub events: Vec<EventName>,
    pub conditions: Conditions,
    pub auth: WebhookAuth,
    /// `whsec_...`: verify `webhook-signature` with it (Standard Webhooks).
    pub signing_secret: String,
    /// Also send the secret itself as `X-Webhook-Secret`.
    pub send_secret_header: bool,
    /// Also send `X-Hmac-Signature`: hex HMAC-SHA256 of the body.
    pub send_hmac_header: bool,
    pub timeout_seconds: u64,
    /// Seconds before each retry; the first attempt is immediate.
    pub retry_schedule_seconds: Vec<u64>,
    /// event-only, small, full, template, or an uploaded plugin's id.
    pub payload_format: String,
    pub payload_config: Value,
    pub lightweight_logs: bool,
    /// none, same_event, same_event_type or any_event.
    pub batch_mode: BatchMode,
    pub batch_wait_seconds: u64,
    pub max_items_per_batch: u32,
    pub active: bool,
    /// Why Switchyard deactivated the webhook, if it did.
    pub disabled_reason: Option<String>,
    /// Start of the current run of failed attempts.
    pub failing_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        let settings = webhook.settings;
        Self {
            id: webhook.id,
            name: settings.name,
            url: settings.url,
            method: settings.method,
            events: settings.events,
            conditions: settings.conditions,
            auth: settings.auth.redacted(),
            signing_secret: webhook.signing_secret,
            send_secret_header: settings.send_secret_header,
            send_hmac_header: settings.send_hmac_header,
            timeout_seconds: settings.timeout.as_secs(),
            retry_schedule_seconds: settings.retry_schedule,
            payload_format: settings.payload_format.as_str().to_owned(),
            payload_config: settings.payload_config,
            lightweight_logs: settings.lightweight_logs,
            batch_mode: settings.batching.mode,
            batch_wait_seconds: settings.batching.wait.as_secs(),
            max_items_per_batch: settings.batching.max_items,
            active: settings.active,
            disabled_reason: webhook.disabled_reason,
            failing_since: webhook.failing_since.map(to_rfc3339),
            created_at: to_rfc3339(webhook.created_at),
            updated_at: to_rfc3339(webhook.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub data: Vec<WebhookView>,
}

/// The fields of a webhook. Creating needs `name`, `url` and `events`;
/// updating (`PATCH`) changes only the fields given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    pub name: Option<String>,
    /// `http://` or `https://`; private and loopback destinations are
    /// refused unless the server allows them (`--outbound-allow-cidr`).
    pub url: Option<String>,
    /// POST (default), PUT, PATCH, DELETE or GET (no body: the envelope goes
    /// in the query string).
    pub method: Option<WebhookMethod>,
    /// lead.created, lead.updated, lead.deleted, lead.stage_changed,
    /// lead.saved (created or updated).
    pub events: Option<Vec<String>>,
    pub conditions: Option<Conditions>,
    pub auth: Option<WebhookAuth>,
    pub send_secret_header: Option<bool>,
    pub send_hmac_header: Option<bool>,
    /// 1 to 60 seconds (default 30).
    pub timeout_seconds: Option<u64>,
    /// Seconds before each retry (default 5, 300, 1800, 7200, 18000, 36000,
    /// 36000), each with ±20% jitter; a receiver's `Retry-After` replaces it.
    pub retry_schedule_seconds: Option<Vec<u64>>,
    /// event-only, small (default), full, template, or an uploaded
    /// payload-builder plugin's id.
    pub payload_format: Option<String>,
    /// The payload builder's config (for `template`: `{"body", "format",
    /// "stage_as_id"}`).
    pub payload_config: Option<Value>,
    /// Keep only status, duration and error of each attempt; such
    /// deliveries cannot be resent.
    pub lightweight_logs: Option<bool>,
    /// Send events together, as one JSON array: none (default), same_event,
    /// same_event_type or any_event. Needs POST and a JSON format other
    /// than full.
    pub batch_mode: Option<BatchMode>,
    /// How long a batch waits for more events, 1 to 900 seconds (default 10).
    pub batch_wait_seconds: Option<u64>,
    /// A batch goes out at once when it holds this many, 1 to 1000 (default 100).
    pub max_items_per_batch: Option<u32>,
    pub active: Option<bool>,
}

impl WebhookInput {
    /// These fields applied over `base`, checked (except what needs the
    /// database or the plugins: see [`check_settings`]).
    fn apply(self, mut base: WebhookSettings) -> Result<WebhookSettings, InvalidInput> {
        if let Some(name) = self.name {
            base.name = crate::domain::parse_name(&name)?;
        }
        if let Some(url) = self.url {
            crate::domain::reject_nul("url", &url)?;
            base.url = url.trim().to_owned();
        }
        if let Some(method) = self.method {
            base.method = method;
        }
        if let Some(events) = self.events {
            base.events = parse_event_list(&events)?;
        }
        if let Some(conditions) = self.conditions {
            base.conditions = conditions;
        }
        if let Some(auth) = self.auth {
            auth.validate()?;
            base.auth = auth;
        }
        if let Some(flag) = self.send_secret_header {
            base.send_secret_header = flag;
        }
        if let Some(flag) = self.send_hmac_header {
            base.send_hmac_header = flag;
        }
        if let Some(seconds) = self.timeout_seconds {
            base.timeout = parse_timeout(seconds)?;
        }
        if let Some(schedule) = self.retry_schedule_seconds {
            check_retry_schedule(&schedule)?;
            base.retry_schedule = schedule;
        }
        let format_changed = self.payload_format.is_some();
        if let Some(format) = self.payload_format {
            base.payload_format = PayloadFormat::parse(&format)?;
        }
        match self.payload_config {
            Some(config) => base.payload_config = config,
            // A new format does not inherit the old one's config.
            None if format_changed => base.payload_config = Value::Null,
            None => {}
        }
        if let Some(flag) = self.lightweight_logs {
            base.lightweight_logs = flag;
        }
        if let Some(mode) = self.batch_mode {
            base.batching.mode = mode;
        }
        if let Some(seconds) = self.batch_wait_seconds {
            base.batching.wait = Duration::from_secs(seconds);
        }
        if let Some(items) = self.max_items_per_batch {
            base.batching.max_items = items;
        }
        base.batching
            .check(base.method, &base.payload_format, &base.payload_config)?;
        if let Some(flag) = self.active {
            base.active = flag;
        }
        Ok(base)
    }
}

/// The checks that need the server: the URL against the destination
/// policy, condition stages against the account's funnel, and the payload
/// format by rendering a sample event with it (which catches a template
/// with an unknown merge tag, say, before any event is lost to it).
async fn check_settings(
    state: &AppState,
    auth: &AdminAuth,
    settings: &WebhookSettings,
) -> ApiResult<()> {
    let url = state
        .deliverer
        .client
        .check_url(&settings.url)
        .map_err(|error| ApiError::Unprocessable(format!("url: {error}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::Unprocessable(
            "url: credentials in the URL would be shown in every delivery log; \
             use auth {\"type\": \"basic\", ...} instead"
                .into(),
        ));
    }
    let stages = funnel_stages::list(&state.db, &auth.account_id).await?;
    for stage_id in settings.conditions.stage_ids() {
        if !stages.iter().any(|stage| stage.id == stage_id) {
            return Err(ApiError::Unprocessable(format!(
                "conditions: funnel stage {stage_id} does not exist"
            )));
        }
    }
    let probe = probe_webhook(auth, settings.clone());
    let (_, event) = sample(&probe, &auth.actor, &stage_views(stages));
    state
        .deliverer
        .render(&probe, &event)
        .await
        .map_err(|error| ApiError::Unprocessable(format!("payload_format: {error}")))?;
    Ok(())
}

/// A webhook that is not stored, to render samples with.
fn probe_webhook(auth: &AdminAuth, settings: WebhookSettings) -> Webhook {
    Webhook {
        id: "wh_00000000000000000000000000".into(),
        account_id: auth.account_id.clone(),
        settings,
        signing_secret: String::new(),
        disabled_reason: None,
        failing_since: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn stage_views(stages: Vec<funnel_stages::FunnelStage>) -> Vec<LeadStageView> {
    stages
        .into_iter()
        .map(|stage| LeadStageView {
            id: stage.id,
            title: stage.title,
            position: Some(stage.position),
        })
        .collect()
}

fn sample(webhook: &Webhook, actor: &Actor, stages: &[LeadStageView]) -> (Envelope, Value) {
    sample_event(
        &new_id(IdKind::Delivery),
        &webhook.id,
        actor,
        stages,
        now_micros(),
    )
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(activate_webhook))
        .routes(routes!(deactivate_webhook))
        .routes(routes!(regenerate_secret))
        .routes(routes!(preview_payload))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(resend_delivery))
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
    responses((status = 201, body = WebhookView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    JsonBody(input): JsonBody<WebhookInput>,
) -> ApiResult<Json<WebhookView>> {
    let current = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    let settings = input.apply(current.settings)?;
    check_settings(&state, &auth, &settings).await?;
    let webhook = webhooks::update(&state.db, &auth.account_id, &webhook_id, &settings).await?;
    Ok(Json(webhook.into()))
}

/// Deletes a webhook with its deliveries and logs.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
async fn regenerate_secret(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = webhooks::regenerate_secret(&state.db, &auth.account_id, &webhook_id).await?;
    Ok(Json(webhook.into()))
}

/// An event to render instead of the sample one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// An event document (see plugin-sdk/ABI.md); a sample
    /// `lead.stage_changed` when absent.
    pub event: Option<Value>,
}

/// A rendered payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub content_type: String,
    pub headers: BTreeMap<String, String>,
    /// Exactly the bytes that would be sent.
    pub body: String,
    /// The event that was rendered.
    pub event: Value,
}

/// Renders the payload for a sample (or the given) event, without sending.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/preview", tag = "webhooks",
    params(("webhook_id" = String, Path)), request_body = PreviewRequest,
    responses((status = 200, body = PreviewView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn preview_payload(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<PreviewView>> {
    let webhook = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    // The body is optional: no body previews the sample event.
    let request: PreviewRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PreviewRequest::default()
    } else {
        parse_json(&body)?
    };
    let event = match request.event {
        Some(event) => event,
        None => {
            let stages = funnel_stages::list(&state.db, &auth.account_id).await?;
            sample(&webhook, &auth.actor, &stage_views(stages)).1
        }
    };
    let payload = state
        .deliverer
        .render(&webhook, &event)
        .await
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    Ok(Json(PreviewView {
        content_type: payload.content_type,
        headers: payload.headers,
        body: payload.body,
        event,
    }))
}

/// What a test send got back.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestSendView {
    /// The `webhook-id` the test was sent with (not stored as a delivery).
    pub message_id: String,
    /// True when the receiver answered 2xx.
    pub success: bool,
    pub status: Option<u16>,
    /// The start of the response body (at most 1 KiB).
    pub body_excerpt: Option<String>,
    pub duration_ms: f64,
    pub error: Option<String>,
}

/// Sends a sample `lead.stage_changed` event to the webhook now, signed
/// like a real delivery, and reports the receiver's answer. Works on
/// inactive webhooks too, so a receiver can be checked before activating.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/test", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = TestSendView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<TestSendView>> {
    let webhook = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    let stages = funnel_stages::list(&state.db, &auth.account_id).await?;
    let (envelope, event) = sample(&webhook, &auth.actor, &stage_views(stages));
    let payload = state
        .deliverer
        .render(&webhook, &event)
        .await
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let sent = state
        .deliverer
        .send(&webhook, &envelope.id, &envelope.query_pairs(), &payload)
        .await;
    let duration_ms = sent.log.duration_us as f64 / 1_000.0;
    Ok(Json(match sent.response {
        Ok(response) => {
            let excerpt: String = String::from_utf8_lossy(&response.body)
                .chars()
                .take(1_024)
                .collect();
            TestSendView {
                message_id: envelope.id,
                success: (200..300).contains(&response.status),
                status: Some(response.status),
                body_excerpt: Some(excerpt),
                duration_ms,
                error: sent.log.error,
            }
        }
        Err(error) => TestSendView {
            message_id: envelope.id,
            success: false,
            status: None,
            body_excerpt: None,
            duration_ms,
            error: Some(error.to_string()),
        },
    }))
}

/// A delivery: one message to one webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The message id: the `webhook-id` header of every attempt.
    pub id: String,
    pub webhook_id: String,
    /// The event name, or `batch` for a batch of messages.
    pub event: String,
    /// Null for a batch.
    pub event_id: Option<String>,
    pub lead_profile_uid: Option<String>,
    /// pending, succeeded, failed, or batched (sent in the batch
    /// `batch_id`, whose outcome it takes).
    pub status: DeliveryStatus,
    pub batch_id: Option<String>,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_response_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            event: delivery.event_type,
            event_id: delivery.event_id,
            lead_profile_uid: delivery.lead_id,
            status: delivery.status,
            batch_id: delivery.batch_id,
            attempt_count: delivery.attempt_count,
            next_attempt_at: delivery.next_attempt_at.map(to_rfc3339),
            last_response_status: delivery.last_response_status,
            last_error: delivery.last_error,
            created_at: to_rfc3339(delivery.created_at),
            updated_at: to_rfc3339(delivery.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryPageQuery {
    /// pending, succeeded or failed.
    pub status: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One attempt, as logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub attempted_at: String,
    /// scheduled (first send or retry) or resend.
    pub triggered_by: String,
    pub url: Option<String>,
    pub method: Option<String>,
    /// Secrets and credentials redacted.
    pub request_headers: Option<Value>,
    pub request_body: Option<String>,
    pub response_status: Option<i64>,
    pub response_headers: Option<Value>,
    /// At most 64 KiB.
    pub response_body: Option<String>,
    pub duration_ms: f64,
    pub error: Option<String>,
}

impl From<Attempt> for AttemptView {
    fn from(attempt: Attempt) -> Self {
        let json = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        let log = attempt.log;
        Self {
            id: attempt.id,
            attempted_at: to_rfc3339(attempt.attempted_at),
            triggered_by: attempt.triggered_by,
            url: log.url,
            method: log.method,
            request_headers: json(log.request_headers),
            request_body: log.request_body,
            response_status: log.response_status,
            response_headers: json(log.response_headers),
            response_body: log.response_body,
            duration_ms: log.duration_us as f64 / 1_000.0,
            error: log.error,
        }
    }
}

/// A delivery with its payload and every attempt, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    pub payload_content_type: Option<String>,
    /// The rendered payload (null until the first attempt, and for
    /// lightweight-log webhooks).
    pub payload_body: Option<String>,
    /// For a batch: the messages it carries.
    pub messages: Vec<String>,
    pub attempts: Vec<AttemptView>,
}

const MAX_PAGE_SIZE: i64 = 200;

/// A webhook's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("webhook_id" = String, Path), DeliveryPageQuery),
    responses((status = 200, body = DeliveryPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    ApiQuery(query): ApiQuery<DeliveryPageQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let status = query
        .status
        .as_deref()
        .map(DeliveryStatus::parse_filter)
        .transpose()
        .map_err(|error| ApiError::BadRequest(error.0))?;
    let mut page = deliveries::list_for_webhook(
        &state.db,
        &auth.account_id,
        &webhook_id,
        status,
        query.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let next_cursor = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|delivery| delivery.id.clone())
    } else {
        None
    };
    Ok(Json(DeliveryPage {
        data: page.into_iter().map(DeliveryView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", tag = "webhooks",
    params(("webhook_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 200, body = DeliveryDetail), (status = 404, body = ErrorBody)))]
async fn get_delivery(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path((webhook_id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Json<DeliveryDetail>> {
    let webhook = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    let delivery = deliveries::get(&state.db, &auth.account_id, &webhook_id, &delivery_id).await?;
    let attempts = deliveries::attempts(&state.db, &delivery_id).await?;
    let messages = if delivery.event_type == deliveries::BATCH_EVENT {
        deliveries::batch_members(&state.db, &delivery_id)
            .await?
            .into_iter()
            .map(|member| member.id)
            .collect()
    } else {
        Vec::new()
    };
    let lightweight = webhook.settings.lightweight_logs;
    Ok(Json(DeliveryDetail {
        payload_content_type: delivery.payload_content_type.clone(),
        payload_body: if lightweight {
            None
        } else {
            delivery.payload_body.clone()
        },
        delivery: delivery.into(),
        messages,
        attempts: attempts.into_iter().map(AttemptView::from).collect(),
    }))
}

/// Sends the delivery again now, with the same `webhook-id` (receivers
/// deduplicate on it) and the same body, then retries on the schedule.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/resend", tag = "webhooks",
    params(("webhook_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resend_delivery(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path((webhook_id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let delivery = resend(&state, &auth.account_id, &webhook_id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}

/// Queues a delivery to be sent again, unless its webhook keeps no payloads
/// or is inactive (the API's and the admin UI's resend).
pub(crate) async fn resend(
    state: &AppState,
    account_id: &str,
    webhook_id: &str,
    delivery_id: &str,
) -> ApiResult<Delivery> {
    let webhook = webhooks::get(&state.db, account_id, webhook_id).await?;
    if webhook.settings.lightweight_logs {
        return Err(ApiError::Conflict(format!(
            "Webhook {webhook_id} keeps lightweight logs, so its deliveries cannot be resent; \
             turn lightweight_logs off to resend future deliveries"
        )));
    }
    if !webhook.settings.active {
        return Err(ApiError::Conflict(format!(
            "Webhook {webhook_id} is inactive; activate it before resending"
        )));
    }
    Ok(deliveries::resend(&state.db, account_id, webhook_id, delivery_id).await?)
}
