//! An import's stage-name mappings: the names a CRM sends for the
//! account's funnel stages, read and replaced as a whole.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::AppState;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, JsonBody};
use crate::storage::webhook_imports::{self, StageMapping};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_mappings, replace_mappings))
}

/// One stage-name mapping, as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageMappingItem {
    /// The stage name the CRM sends, compared ignoring case, spaces, `_`
    /// and `-`; unique in the import by that comparison.
    #[schema(min_length = 1, pattern = r"^[^\u0000]*[^\s_\-\u0000][^\u0000]*$")]
    pub external_name: String,
    /// A stage of the account's funnel.
    pub funnel_stage_id: String,
}

/// One stage-name mapping, with its stage's current title.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StageMappingView {
    pub external_name: String,
    pub funnel_stage_id: String,
    pub funnel_stage_title: String,
}

impl From<StageMapping> for StageMappingView {
    fn from(mapping: StageMapping) -> Self {
        Self {
            external_name: mapping.external_name,
            funnel_stage_id: mapping.funnel_stage_id,
            funnel_stage_title: mapping.funnel_stage_title,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StageMappingList {
    pub data: Vec<StageMappingView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplaceStageMappings {
    /// The complete new list (at most 1,000); it replaces every existing
    /// mapping.
    #[schema(max_items = 1000)]
    pub mappings: Vec<StageMappingItem>,
}

/// The import's stage-name mappings.
#[utoipa::path(get, path = "/api/v1/webhook-imports/{import_id}/mappings", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = StageMappingList)))]
async fn get_mappings(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<StageMappingList>> {
    let mappings = webhook_imports::mappings(&state.db, &auth.account_id, &import_id).await?;
    Ok(Json(StageMappingList {
        data: mappings.into_iter().map(StageMappingView::from).collect(),
    }))
}

/// Replaces every mapping of the import.
#[utoipa::path(put, path = "/api/v1/webhook-imports/{import_id}/mappings", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = ReplaceStageMappings,
    responses((status = 200, body = StageMappingList),
        (status = 422, body = ErrorBody, description = "A name is blank or repeated, or a stage is not in the funnel")))]
async fn replace_mappings(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<ReplaceStageMappings>,
) -> ApiResult<Json<StageMappingList>> {
    let requested: Vec<(String, String)> = request
        .mappings
        .into_iter()
        .map(|mapping| (mapping.external_name, mapping.funnel_stage_id))
        .collect();
    let mappings =
        webhook_imports::replace_mappings(&state.db, &auth.account_id, &import_id, &requested)
            .await?;
    Ok(Json(StageMappingList {
        data: mappings.into_iter().map(StageMappingView::from).collect(),
    }))
}
