//! `/api/v1/funnel-stages`: list, create, read, rename, move, reorder and
//! delete the account's funnel stages.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::error::{ApiResult, ErrorBody};
use super::extract::{AdminAuth, JsonBody};
use super::integers;
use crate::domain::stage_title::StageTitle;
use crate::domain::time::to_rfc3339;
use crate::storage::funnel_stages::{self, FunnelStage};

/// A stage of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunnelStageView {
    /// Stable id: unchanged by rename and reorder.
    pub id: String,
    pub title: String,
    /// 1-based place in the funnel.
    pub position: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<FunnelStage> for FunnelStageView {
    fn from(stage: FunnelStage) -> Self {
        Self {
            id: stage.id,
            title: stage.title,
            position: stage.position,
            created_at: to_rfc3339(stage.created_at),
            updated_at: to_rfc3339(stage.updated_at),
        }
    }
}

/// The funnel, in order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FunnelStageList {
    pub data: Vec<FunnelStageView>,
}

impl From<Vec<FunnelStage>> for FunnelStageList {
    fn from(stages: Vec<FunnelStage>) -> Self {
        Self {
            data: stages.into_iter().map(FunnelStageView::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateFunnelStage {
    /// Unique in the account, ignoring case, spaces, `_` and `-`; at most
    /// 200 characters, with something besides spaces, `_` and `-`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s_\-\u0000][^\u0000]*$"
    )]
    pub title: String,
    /// 1-based place to insert at; the end of the funnel when omitted or
    /// past the end.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub position: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateFunnelStage {
    /// New title; the same rules as a new stage's.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s_\-\u0000][^\u0000]*$"
    )]
    pub title: Option<String>,
    /// New 1-based place (the last one when past the end); the stages in
    /// between shift by one.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub position: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReorderFunnelStages {
    /// Every stage id, once, in the new order.
    pub stage_ids: Vec<String>,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stages, create_stage))
        .routes(routes!(reorder_stages))
        .routes(routes!(get_stage, update_stage, delete_stage))
}

/// The account's funnel stages, in funnel order.
#[utoipa::path(get, path = "/api/v1/funnel-stages", tag = "funnel-stages",
    responses((status = 200, body = FunnelStageList)))]
async fn list_stages(
    State(state): State<AppState>,
    auth: AdminAuth,
) -> ApiResult<Json<FunnelStageList>> {
    let stages = funnel_stages::list(&state.db, &auth.account_id).await?;
    Ok(Json(stages.into()))
}

/// Adds a stage, at the end of the funnel unless a position is given.
#[utoipa::path(post, path = "/api/v1/funnel-stages", tag = "funnel-stages",
    request_body = CreateFunnelStage,
    responses(
        (status = 201, body = FunnelStageView),
        (status = 409, body = ErrorBody, description = "Another stage has this title"),
        (status = 422, body = ErrorBody, description = "The title or position breaks a rule")))]
async fn create_stage(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<CreateFunnelStage>,
) -> ApiResult<(StatusCode, Json<FunnelStageView>)> {
    let title = StageTitle::parse(&request.title)?;
    let stage =
        funnel_stages::create(&state.db, &auth.account_id, &title, request.position).await?;
    Ok((StatusCode::CREATED, Json(stage.into())))
}

/// One stage.
#[utoipa::path(get, path = "/api/v1/funnel-stages/{stage_id}", tag = "funnel-stages",
    params(("stage_id" = String, Path, description = "Funnel stage id")),
    responses((status = 200, body = FunnelStageView)))]
async fn get_stage(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(stage_id): Path<String>,
) -> ApiResult<Json<FunnelStageView>> {
    let stage = funnel_stages::get(&state.db, &auth.account_id, &stage_id).await?;
    Ok(Json(stage.into()))
}

/// Renames a stage and/or moves it; its id does not change.
#[utoipa::path(patch, path = "/api/v1/funnel-stages/{stage_id}", tag = "funnel-stages",
    params(("stage_id" = String, Path, description = "Funnel stage id")),
    request_body = UpdateFunnelStage,
    responses(
        (status = 200, body = FunnelStageView),
        (status = 409, body = ErrorBody, description = "Another stage has this title"),
        (status = 422, body = ErrorBody, description = "The title or position breaks a rule")))]
async fn update_stage(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(stage_id): Path<String>,
    JsonBody(request): JsonBody<UpdateFunnelStage>,
) -> ApiResult<Json<FunnelStageView>> {
    let title = request
        .title
        .as_deref()
        .map(StageTitle::parse)
        .transpose()?;
    let stage = funnel_stages::update(
        &state.db,
        &auth.account_id,
        &stage_id,
        title.as_ref(),
        request.position,
    )
    .await?;
    Ok(Json(stage.into()))
}

/// Puts every stage in a new order.
#[utoipa::path(put, path = "/api/v1/funnel-stages/order", tag = "funnel-stages",
    request_body = ReorderFunnelStages,
    responses((status = 200, body = FunnelStageList),
        (status = 422, body = ErrorBody, description = "The ids are not every stage, once each")))]
async fn reorder_stages(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<ReorderFunnelStages>,
) -> ApiResult<Json<FunnelStageList>> {
    let stages = funnel_stages::reorder(&state.db, &auth.account_id, &request.stage_ids).await?;
    Ok(Json(stages.into()))
}

/// Deletes a stage; refused while any lead is at it. History that reached
/// the stage is kept.
#[utoipa::path(delete, path = "/api/v1/funnel-stages/{stage_id}", tag = "funnel-stages",
    params(("stage_id" = String, Path, description = "Funnel stage id")),
    responses((status = 204, description = "Deleted"),
        (status = 409, body = ErrorBody, description = "Leads are at this stage")))]
async fn delete_stage(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(stage_id): Path<String>,
) -> ApiResult<StatusCode> {
    funnel_stages::delete(&state.db, &auth.account_id, &stage_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
