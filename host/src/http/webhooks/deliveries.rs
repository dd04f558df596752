//! A webhook's deliveries: listed newest first (by status, paged by
//! cursor), one read with its attempts, and resent.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::views::{AttemptView, DeliveryDetail, DeliveryPage, DeliveryView};
use crate::domain::delivery::DeliveryStatus;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, ApiQuery};
use crate::storage::deliveries::{self, Delivery};
use crate::storage::webhooks::{self, Webhook};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(resend_delivery))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliveryPageQuery {
    /// Only deliveries with this status.
    #[param(value_type = Option<crate::http::api_doc::DeliveryStatusFilter>, inline)]
    pub status: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

const MAX_PAGE_SIZE: i64 = 200;

/// A webhook's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("webhook_id" = String, Path), DeliveryPageQuery),
    responses((status = 200, body = DeliveryPage)))]
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
    responses((status = 200, body = DeliveryDetail)))]
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
    responses((status = 202, body = DeliveryView, description = "Queued to be sent again"),
        (status = 409, body = ErrorBody, description = "The webhook keeps lightweight logs, or is inactive")))]
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
    check_resendable(&webhook)?;
    Ok(deliveries::resend(&state.db, account_id, webhook_id, delivery_id).await?)
}

/// Why the webhook's deliveries cannot be sent again, if they cannot: a
/// webhook with lightweight logs keeps no payloads, and an inactive one
/// sends nothing. Resend and recovery both ask.
pub(super) fn check_resendable(webhook: &Webhook) -> ApiResult<()> {
    let id = &webhook.id;
    if webhook.settings.lightweight_logs {
        return Err(ApiError::Conflict(format!(
            "Webhook {id} keeps lightweight logs, so its deliveries cannot be resent; \
             turn lightweight_logs off to resend future deliveries"
        )));
    }
    if !webhook.settings.active {
        return Err(ApiError::Conflict(format!(
            "Webhook {id} is inactive; activate it before resending"
        )));
    }
    Ok(())
}
