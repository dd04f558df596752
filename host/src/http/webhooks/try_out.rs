//! Trying a webhook out: rendering its payload for a sample (or given)
//! event without sending, and sending a sample event now. Both go through
//! the delivery engine's own [`crate::outbound::delivery::Deliverer`], so
//! what is previewed is what would be sent.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::views::{PreviewView, TestSendView};
use crate::domain::actor::Actor;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::time::now_micros;
use crate::domain::webhook::WebhookSettings;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, body_rejection, parse_json, require_json_content_type};
use crate::outbound::payload::{Envelope, sample_event};
use crate::storage::funnel_stages;
use crate::storage::leads::LeadStageView;
use crate::storage::webhooks::{self, Webhook};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preview_payload))
        .routes(routes!(test_webhook))
}

/// An event to render instead of the sample one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PreviewRequest {
    /// An event document (see plugin-sdk/ABI.md); a sample
    /// `lead.stage_changed` when absent.
    pub event: Option<Value>,
}

/// Renders the payload for a sample (or the given) event, without sending.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/preview", tag = "webhooks",
    params(("webhook_id" = String, Path)), request_body = Option<PreviewRequest>,
    responses((status = 200, body = PreviewView),
        (status = 422, body = ErrorBody, description = "The payload cannot be rendered for this event (the message says why)")))]
async fn preview_payload(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<PreviewView>> {
    let body = body.map_err(|rejection| body_rejection(rejection, state.max_body_bytes))?;
    let webhook = webhooks::get(&state.db, &auth.account_id, &webhook_id).await?;
    // The body is optional: no body (or `null`) previews the sample event.
    let request: PreviewRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PreviewRequest::default()
    } else {
        require_json_content_type(&headers)?;
        parse_json::<Option<PreviewRequest>>(&body)?.unwrap_or_default()
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

/// Sends a sample `lead.stage_changed` event to the webhook now, signed
/// like a real delivery, and reports the receiver's answer. The test is
/// logged as a delivery of the webhook (event `test`, under `message_id`)
/// with its attempt, and can be resent like any delivery. Works on
/// inactive webhooks too, so a receiver can be checked before activating.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/test", tag = "webhooks",
    params(("webhook_id" = String, Path)),
    responses((status = 200, body = TestSendView, description = "Sent (or the send failed: see `success` and `error`)"),
        (status = 422, body = ErrorBody, description = "The payload cannot be rendered")))]
async fn test_webhook(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<TestSendView>> {
    Ok(Json(
        send_test(&state, &auth.account_id, &auth.actor, &webhook_id).await?,
    ))
}

/// Sends a sample event to the webhook and logs it (the API's and the
/// admin UI's test send).
pub(crate) async fn send_test(
    state: &AppState,
    account_id: &str,
    actor: &Actor,
    webhook_id: &str,
) -> ApiResult<TestSendView> {
    let webhook = webhooks::get(&state.db, account_id, webhook_id).await?;
    let stages = funnel_stages::list(&state.db, account_id).await?;
    let (envelope, event) = sample(&webhook, actor, &stage_views(stages));
    let sent = state
        .deliverer
        .send_test(&webhook, &envelope, &event)
        .await
        .map_err(|error| ApiError::Unprocessable(error.to_string()))?;
    let duration_ms = sent.log.duration_us as f64 / 1_000.0;
    Ok(match sent.response {
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
    })
}

/// A webhook that is not stored, to render samples with.
pub(super) fn probe_webhook(auth: &AdminAuth, settings: WebhookSettings) -> Webhook {
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

pub(super) fn stage_views(stages: Vec<funnel_stages::FunnelStage>) -> Vec<LeadStageView> {
    stages
        .into_iter()
        .map(|stage| LeadStageView {
            id: stage.id,
            title: stage.title,
            position: Some(stage.position),
        })
        .collect()
}

pub(super) fn sample(
    webhook: &Webhook,
    actor: &Actor,
    stages: &[LeadStageView],
) -> (Envelope, Value) {
    sample_event(
        &new_id(IdKind::Delivery),
        &webhook.id,
        actor,
        stages,
        now_micros(),
    )
}
