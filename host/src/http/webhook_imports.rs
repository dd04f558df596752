//! `/api/v1/webhook-imports`: the admin side of inbound integrations:
//! create (token shown once), list, read, rename, delete, regenerate the
//! token, activate, deactivate, the stage-name mappings, and the transform
//! (`transform_test`: trying one on a sample request).

mod transform_test;

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
use serde_json::Value;

pub(crate) use transform_test::{InboundSample, TransformTestResult, run_on_sample};

use crate::domain::plugin::PluginKind;
use crate::domain::rate_limit::RateLimit;
use crate::domain::time::to_rfc3339;
use crate::storage::webhook_imports::{self, StageMapping, WebhookImport};

/// The URLs a CRM sends funnel updates to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportEndpoints {
    /// `POST` or `PATCH` one `{lead_profile_uid, funnel_stage}` record.
    pub update: String,
    /// `POST` or `PATCH` `{"records": [...]}`, at most 100 records.
    pub batch_update: String,
}

/// A webhook import. Its token is never shown again after creation or
/// regeneration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportView {
    pub id: String,
    pub name: String,
    /// New imports are inactive; inbound requests are refused until activated.
    pub active: bool,
    pub endpoints: ImportEndpoints,
    /// The plugin that turns any request body into funnel updates, if any.
    pub transform: Option<ImportTransform>,
    /// Whether a transform's lead record that matches no lead creates one
    /// (off by default: records then only update the leads they match).
    pub create_leads: bool,
    /// How many inbound requests the import accepts (null: no limit).
    pub rate_limit: Option<ImportRateLimit>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookImportView {
    fn new(import: WebhookImport, public_url: &str) -> Self {
        let config = import.transform_config_json();
        Self {
            id: import.id,
            name: import.name,
            active: import.active != 0,
            endpoints: ImportEndpoints {
                update: format!("{public_url}/api/v1/webhook-import/update"),
                batch_update: format!("{public_url}/api/v1/webhook-import/batch-update"),
            },
            transform: import
                .transform_plugin_id
                .map(|plugin_id| ImportTransform { plugin_id, config }),
            create_leads: import.create_leads != 0,
            rate_limit: RateLimit::from_columns(
                import.rate_limit_per_second,
                import.rate_limit_burst,
            )
            .map(ImportRateLimit::from),
            created_at: to_rfc3339(import.created_at),
            updated_at: to_rfc3339(import.updated_at),
        }
    }
}

/// A transform attached to an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportTransform {
    /// An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
    pub plugin_id: String,
    /// Passed to the plugin on every call.
    #[serde(default)]
    pub config: Value,
}

/// A transform to attach, optionally tried on a sample request first.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttachTransform {
    /// An uploaded `inbound-transform` plugin's id, or `builtin:json-mapper`.
    pub plugin_id: String,
    /// Passed to the plugin on every call.
    #[serde(default)]
    pub config: Value,
    /// A request the CRM would send: the transform is attached only if it
    /// returns records for it, else the answer is a 422 with the plugin's
    /// error (see `POST .../transform/test` for the records themselves).
    pub sample: Option<InboundSample>,
}

/// An inbound rate limit: a request over it gets `429 Too Many Requests`
/// with `Retry-After`, and nothing is written. Each server process limits
/// on its own (N processes accept up to N times the rate).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportRateLimit {
    /// Requests accepted per second, sustained.
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(deserialize_with = "integers::whole")]
    pub requests_per_second: u32,
    /// Requests accepted at once after a quiet period (default: one
    /// second's worth, `requests_per_second`).
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "integers::optional")]
    pub burst: Option<u32>,
}

impl ImportRateLimit {
    fn parse(self) -> Result<RateLimit, crate::domain::InvalidInput> {
        RateLimit::new(self.requests_per_second, self.burst)
    }
}

impl From<RateLimit> for ImportRateLimit {
    fn from(limit: RateLimit) -> Self {
        Self {
            requests_per_second: limit.per_second,
            burst: Some(limit.burst),
        }
    }
}

/// An import with its new token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportWithToken {
    #[serde(flatten)]
    pub import: WebhookImportView,
    /// Send as `Authorization: Bearer <token>`. Stored only as a digest:
    /// copy it now.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookImportList {
    pub data: Vec<WebhookImportView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookImportName {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// Let lead records that match no lead create one (default false).
    #[serde(default)]
    pub create_leads: bool,
    /// Limit the inbound requests it accepts (default: no limit).
    #[serde(default)]
    pub rate_limit: Option<ImportRateLimit>,
}

/// The settings to change; absent ones stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookImportChanges {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    /// Let lead records that match no lead create one.
    pub create_leads: Option<bool>,
    /// A new inbound rate limit; `null` lifts the limit.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<ImportRateLimit>, nullable, required = false)]
    pub rate_limit: Option<Option<ImportRateLimit>>,
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

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_imports, create_import))
        .routes(routes!(get_import, rename_import, delete_import))
        .routes(routes!(regenerate_token))
        .routes(routes!(activate_import))
        .routes(routes!(deactivate_import))
        .routes(routes!(get_mappings, replace_mappings))
        .routes(routes!(set_transform, remove_transform))
        .merge(transform_test::router())
}

/// Attaches a transform: from now on both inbound endpoints accept any body
/// and the plugin turns it into funnel updates. With a `sample`, the
/// transform is first run on it and attached only if it returns records.
#[utoipa::path(put, path = "/api/v1/webhook-imports/{import_id}/transform", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = AttachTransform,
    responses((status = 200, body = WebhookImportView),
        (status = 422, body = ErrorBody, description = "The plugin is not an inbound transform or no longer compiles, or it failed on the sample (the message has its error)"),
        (status = 503, body = ErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn set_transform(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<AttachTransform>,
) -> ApiResult<Json<WebhookImportView>> {
    let transform = ImportTransform {
        plugin_id: request.plugin_id,
        config: request.config,
    };
    let import = attach_transform(
        &state,
        &auth.account_id,
        &import_id,
        &transform,
        request.sample.as_ref(),
    )
    .await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Attaches a transform to an import, once the plugin is known to be an
/// inbound transform that compiles and, given a sample request, returns
/// records for it (the API's and the admin UI's).
pub(crate) async fn attach_transform(
    state: &AppState,
    account_id: &str,
    import_id: &str,
    transform: &ImportTransform,
    sample: Option<&InboundSample>,
) -> ApiResult<WebhookImport> {
    let import = webhook_imports::get(&state.db, account_id, import_id).await?;
    // Refuses unknown plugins, payload builders, and modules that no longer compile.
    state
        .plugins
        .resolve(
            account_id,
            &transform.plugin_id,
            PluginKind::InboundTransform,
        )
        .await?;
    if let Some(sample) = sample {
        transform_test::refuse_if_failing(
            state,
            account_id,
            &import,
            &transform.plugin_id,
            &transform.config,
            sample,
        )
        .await?;
    }
    Ok(webhook_imports::set_transform(
        &state.db,
        account_id,
        import_id,
        Some((&transform.plugin_id, &transform.config)),
    )
    .await?)
}

/// Detaches the transform: the endpoints expect `{lead_profile_uid, funnel_stage}` again.
#[utoipa::path(delete, path = "/api/v1/webhook-imports/{import_id}/transform", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn remove_transform(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import =
        webhook_imports::set_transform(&state.db, &auth.account_id, &import_id, None).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Every webhook import of the account.
#[utoipa::path(get, path = "/api/v1/webhook-imports", tag = "webhook-imports",
    responses((status = 200, body = WebhookImportList)))]
async fn list_imports(
    State(state): State<AppState>,
    auth: AdminAuth,
) -> ApiResult<Json<WebhookImportList>> {
    let imports = webhook_imports::list(&state.db, &auth.account_id).await?;
    Ok(Json(WebhookImportList {
        data: imports
            .into_iter()
            .map(|import| WebhookImportView::new(import, &state.public_url))
            .collect(),
    }))
}

/// Creates an inactive import and returns its token, once.
#[utoipa::path(post, path = "/api/v1/webhook-imports", tag = "webhook-imports",
    request_body = WebhookImportName,
    responses((status = 201, body = WebhookImportWithToken),
        (status = 422, body = ErrorBody, description = "The name or the rate limit breaks a rule")))]
async fn create_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    JsonBody(request): JsonBody<WebhookImportName>,
) -> ApiResult<(StatusCode, Json<WebhookImportWithToken>)> {
    let name = crate::domain::parse_name(&request.name)?;
    let rate_limit = request.rate_limit.map(ImportRateLimit::parse).transpose()?;
    let (mut import, token) = webhook_imports::create(&state.db, &auth.account_id, &name).await?;
    if rate_limit.is_some() {
        import =
            webhook_imports::set_rate_limit(&state.db, &auth.account_id, &import.id, rate_limit)
                .await?;
    }
    if request.create_leads {
        import = webhook_imports::set_create_leads(&state.db, &auth.account_id, &import.id, true)
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(WebhookImportWithToken {
            import: WebhookImportView::new(import, &state.public_url),
            token,
        }),
    ))
}

/// One import (without its token).
#[utoipa::path(get, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn get_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import = webhook_imports::get(&state.db, &auth.account_id, &import_id).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Renames an import, turns lead creation on or off, or sets its rate
/// limit.
#[utoipa::path(patch, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)), request_body = WebhookImportChanges,
    responses((status = 200, body = WebhookImportView),
        (status = 422, body = ErrorBody, description = "The name or the rate limit breaks a rule")))]
async fn rename_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
    JsonBody(request): JsonBody<WebhookImportChanges>,
) -> ApiResult<Json<WebhookImportView>> {
    let name = request
        .name
        .as_deref()
        .map(crate::domain::parse_name)
        .transpose()?;
    let rate_limit = request
        .rate_limit
        .map(|limit| limit.map(ImportRateLimit::parse).transpose())
        .transpose()?;
    let mut import = webhook_imports::get(&state.db, &auth.account_id, &import_id).await?;
    if let Some(rate_limit) = rate_limit {
        import =
            webhook_imports::set_rate_limit(&state.db, &auth.account_id, &import_id, rate_limit)
                .await?;
    }
    if let Some(name) = name {
        import = webhook_imports::rename(&state.db, &auth.account_id, &import_id, &name).await?;
    }
    if let Some(create_leads) = request.create_leads {
        import = webhook_imports::set_create_leads(
            &state.db,
            &auth.account_id,
            &import_id,
            create_leads,
        )
        .await?;
    }
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Deletes an import and its mappings; its token stops working at once.
#[utoipa::path(delete, path = "/api/v1/webhook-imports/{import_id}", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 204, description = "Deleted")))]
async fn delete_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<StatusCode> {
    webhook_imports::delete(&state.db, &auth.account_id, &import_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new token; the old one is refused from now on.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/regenerate-token", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportWithToken)))]
async fn regenerate_token(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportWithToken>> {
    let (import, token) =
        webhook_imports::regenerate_token(&state.db, &auth.account_id, &import_id).await?;
    Ok(Json(WebhookImportWithToken {
        import: WebhookImportView::new(import, &state.public_url),
        token,
    }))
}

/// Starts accepting inbound requests with the import's token.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/activate", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn activate_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import = webhook_imports::set_active(&state.db, &auth.account_id, &import_id, true).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
}

/// Refuses inbound requests until activated again; every setting is kept.
#[utoipa::path(post, path = "/api/v1/webhook-imports/{import_id}/deactivate", tag = "webhook-imports",
    params(("import_id" = String, Path)),
    responses((status = 200, body = WebhookImportView)))]
async fn deactivate_import(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(import_id): Path<String>,
) -> ApiResult<Json<WebhookImportView>> {
    let import =
        webhook_imports::set_active(&state.db, &auth.account_id, &import_id, false).await?;
    Ok(Json(WebhookImportView::new(import, &state.public_url)))
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
