//! `/api/v1/plugins`: upload a Wasm module (raw body) or a JavaScript or
//! TypeScript source (built into a module by the server, its source kept),
//! list (built-ins too), read, read a script's source, delete (refused while
//! an import uses it), and a dry run that calls the plugin and reports its
//! output or error, fuel, time and logs (the call is `plugin_trial`'s).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::api_doc::{ScriptSource, WasmModule};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{AdminAuth, ApiQuery, JsonBody, body_rejection};
use super::plugin_trial::{self, TrialCall};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::domain::plugin::PluginKind;
use crate::domain::plugin::PluginLimits;
use crate::domain::time::to_rfc3339;
use crate::plugins::abi;
use crate::plugins::builtin::builtins;
use crate::plugins::js::Language;
use crate::plugins::registry::Script;
use crate::plugins::runtime::MAX_MODULE_BYTES;
use crate::storage::plugin_sources;
use crate::storage::plugins::{self, PluginRecord};

/// A plugin: built in (id `builtin:NAME`) or uploaded.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginView {
    pub id: String,
    pub name: String,
    pub kind: PluginKind,
    pub builtin: bool,
    /// SHA-256 of the module, hex.
    pub sha256: String,
    pub size_bytes: u64,
    pub limits: PluginLimits,
    /// Upload time; null for built-ins.
    pub created_at: Option<String>,
    /// `javascript` or `typescript` for a plugin built from a script
    /// (`GET /api/v1/plugins/{id}/source` returns it); null for Wasm.
    pub language: Option<String>,
    /// The script's file name, as its stack traces show it.
    pub filename: Option<String>,
}

impl From<PluginRecord> for PluginView {
    fn from(record: PluginRecord) -> Self {
        Self {
            limits: record.limits,
            kind: record.kind,
            id: record.id,
            name: record.name,
            builtin: false,
            sha256: record.sha256,
            size_bytes: record.size_bytes.max(0) as u64,
            created_at: Some(to_rfc3339(record.created_at)),
            language: None,
            filename: None,
        }
    }
}

impl PluginView {
    /// The view with its script's language and file name, if it was built
    /// from one.
    async fn with_source(mut self, state: &AppState) -> ApiResult<Self> {
        if !self.builtin
            && let Some(source) = plugin_sources::of_module(&state.db, &self.sha256).await?
        {
            self.language = Some(source.language.as_str().to_owned());
            self.filename = Some(source.filename);
        }
        Ok(self)
    }
}

pub(crate) fn builtin_views() -> impl Iterator<Item = PluginView> {
    builtins().map(|plugin| PluginView {
        id: format!("{BUILTIN_ID_PREFIX}{}", plugin.name),
        name: plugin.name.to_owned(),
        kind: plugin.kind,
        builtin: true,
        sha256: crate::domain::secrets::sha256_hex(plugin.module),
        size_bytes: plugin.module.len() as u64,
        limits: PluginLimits::DEFAULT,
        created_at: None,
        language: None,
        filename: None,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PluginList {
    pub data: Vec<PluginView>,
}

/// Upload parameters; the module itself is the request body.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadParams {
    /// Unique in the account; at most 200 characters, not blank, not
    /// starting with `builtin:`.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// `inbound-transform` or `payload-builder`.
    #[param(inline)]
    pub kind: PluginKind,
    /// Fuel per call (defaults apply when omitted; each limit is capped at
    /// the account maximum).
    #[param(minimum = 0)]
    pub fuel: Option<u64>,
    /// Largest linear memory, in bytes.
    #[param(minimum = 0)]
    pub memory_bytes: Option<u64>,
    /// Wall-clock limit per call, in milliseconds.
    #[param(minimum = 0)]
    pub time_limit_ms: Option<u64>,
    /// Largest result, in bytes.
    #[param(minimum = 0)]
    pub output_bytes: Option<u64>,
    /// `js` or `ts` (or `javascript`, `typescript`): the body is a script to
    /// build (a JavaScript or TypeScript content type says so too:
    /// `text/javascript`, `application/typescript`). Without either, the
    /// body is a module.
    #[param(value_type = Option<super::api_doc::ScriptLanguage>, inline)]
    pub language: Option<String>,
    /// A script's file name, shown in its stack traces and errors (default
    /// `transform.js`, `payload.ts`, ...): 1 to 200 characters, no slashes.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000\n/\\]*[^\s\u0000/\\][^\u0000\n/\\]*$"
    )]
    pub filename: Option<String>,
}

/// A dry run: what to call the plugin with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DryRunRequest {
    /// The plugin's config.
    #[serde(default)]
    pub config: Value,
    /// A transform: the request body a CRM would send (JSON, or a string for
    /// other content types). A payload builder: the event.
    pub input: Value,
    /// Transforms only; default `application/json`.
    #[schema(pattern = r"^[^\u0000]*$")]
    pub content_type: Option<String>,
    /// Transforms only: request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What a dry run did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DryRunResult {
    /// Whether the plugin returned `ok`.
    pub ok: bool,
    /// The plugin's `ok` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The named error the call ended in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub fuel_used: u64,
    pub duration_ms: f64,
    pub logs: Vec<String>,
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins, upload_plugin))
        .routes(routes!(get_plugin, delete_plugin))
        .routes(routes!(get_source))
        .routes(routes!(dry_run))
        // Modules are larger than ordinary API bodies.
        .layer(DefaultBodyLimit::max(MAX_MODULE_BYTES + 1024))
}

/// Built-in and uploaded plugins.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, body = PluginList)))]
async fn list_plugins(
    State(state): State<AppState>,
    auth: AdminAuth,
) -> ApiResult<Json<PluginList>> {
    let uploaded = plugins::list(&state.db, &auth.account_id).await?;
    let mut data: Vec<PluginView> = builtin_views().collect();
    for record in uploaded {
        data.push(PluginView::from(record).with_source(&state).await?);
    }
    Ok(Json(PluginList { data }))
}

/// Uploads a module (the raw `.wasm` bytes as the body), or a JavaScript or
/// TypeScript script (its text as the body, with `language=js|ts` or a
/// JavaScript or TypeScript content type), which the server builds into a
/// module and keeps. The module is validated (imports, exports for its
/// kind) and compiled before it is stored; a script with a syntax error is
/// refused with its line and column.
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins", params(UploadParams),
    request_body(description = "The module's bytes, or the script's text", content(
        (WasmModule = "application/wasm"),
        (WasmModule = "application/octet-stream"),
        (ScriptSource = "text/javascript"),
        (ScriptSource = "application/typescript"))),
    responses((status = 201, body = PluginView),
        (status = 409, body = ErrorBody, description = "Another plugin has this name"),
        (status = 422, body = ErrorBody, description = "The module or script is invalid (the message says why), or a parameter breaks a rule"),
        (status = 503, body = ErrorBody, description = "The plugin compiler is busy; retry")))]
async fn upload_plugin(
    State(state): State<AppState>,
    auth: AdminAuth,
    headers: HeaderMap,
    params: Result<ApiQuery<UploadParams>, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<PluginView>)> {
    // Read the module before refusing bad parameters: answering while a
    // large body is still arriving makes the server drop the connection, and
    // a client reusing it sees a reset instead of the 400.
    let module = body.map_err(|rejection| body_rejection(rejection, MAX_MODULE_BYTES + 1024))?;
    let ApiQuery(mut params) = params?;
    if params.language.is_none()
        && let Some(language) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(Language::from_content_type)
    {
        params.language = Some(language.as_str().to_owned());
    }
    let record = upload(&state, &auth.account_id, &params, module.to_vec()).await?;
    Ok((
        StatusCode::CREATED,
        Json(PluginView::from(record).with_source(&state).await?),
    ))
}

/// Checks an upload's name, applies the default limits, then validates,
/// compiles and stores the module (the API's and the admin UI's upload).
pub(crate) async fn upload(
    state: &AppState,
    account_id: &str,
    params: &UploadParams,
    module: Vec<u8>,
) -> ApiResult<PluginRecord> {
    let name = params.name.trim();
    if name.is_empty()
        || name.chars().count() > 200
        || name.starts_with(BUILTIN_ID_PREFIX)
        || name.contains('\0')
    {
        return Err(ApiError::Unprocessable(
            "name must be 1 to 200 characters and not start with `builtin:`".into(),
        ));
    }
    if module.is_empty() {
        return Err(ApiError::Unprocessable(
            "the body is empty: send the module's bytes (or the script's text) as the body, \
             e.g. `curl --data-binary @plugin.wasm`, and check that the file exists"
                .into(),
        ));
    }
    let defaults = PluginLimits::DEFAULT;
    let limits = PluginLimits {
        fuel: params.fuel.unwrap_or(defaults.fuel),
        memory_bytes: params.memory_bytes.unwrap_or(defaults.memory_bytes),
        time_limit_ms: params.time_limit_ms.unwrap_or(defaults.time_limit_ms),
        output_bytes: params.output_bytes.unwrap_or(defaults.output_bytes),
    };
    let Some(language) = &params.language else {
        return Ok(state
            .plugins
            .upload(account_id, name, params.kind, module, limits)
            .await?);
    };
    let language = Language::parse(language).ok_or_else(|| {
        ApiError::Unprocessable(format!("language must be `js` or `ts`, not `{language}`"))
    })?;
    let source = String::from_utf8(module)
        .map_err(|_| ApiError::Unprocessable("a script must be UTF-8 text".into()))?;
    let filename = match params.filename.as_deref().map(str::trim) {
        Some(filename)
            if !filename.is_empty()
                && filename.chars().count() <= 200
                && !filename.contains(['\0', '\n', '/', '\\']) =>
        {
            filename.to_owned()
        }
        Some(_) => {
            return Err(ApiError::Unprocessable(
                "filename must be 1 to 200 characters, without slashes".into(),
            ));
        }
        None => language.default_filename(params.kind).to_owned(),
    };
    let script = Script {
        language,
        filename,
        source,
    };
    Ok(state
        .plugins
        .upload_script(account_id, name, params.kind, script, limits)
        .await?)
}

/// The source of a plugin built from a script: its text, as uploaded, with
/// a JavaScript or TypeScript content type.
#[utoipa::path(get, path = "/api/v1/plugins/{plugin_id}/source", tag = "plugins",
    params(("plugin_id" = String, Path)),
    responses((status = 200, description = "The script, as uploaded", content(
            (String = "text/javascript"), (String = "application/typescript"))),
        (status = 404, body = ErrorBody, description = "No such plugin, or it was not built from a script")))]
async fn get_source(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(plugin_id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let not_built_from_a_script = || {
        ApiError::NotFound(format!(
            "Plugin {plugin_id} was not built from a script; it has no source"
        ))
    };
    if plugin_id.starts_with(BUILTIN_ID_PREFIX) {
        return Err(not_built_from_a_script());
    }
    let record = plugins::get(&state.db, &auth.account_id, &plugin_id).await?;
    let source = plugin_sources::of_module(&state.db, &record.sha256)
        .await?
        .ok_or_else(not_built_from_a_script)?;
    let content_type = match source.language {
        Language::TypeScript => "application/typescript; charset=utf-8",
        Language::JavaScript => "text/javascript; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], source.source).into_response())
}

/// One plugin.
#[utoipa::path(get, path = "/api/v1/plugins/{plugin_id}", tag = "plugins",
    params(("plugin_id" = String, Path, description = "A plugin id, or builtin:NAME")),
    responses((status = 200, body = PluginView)))]
async fn get_plugin(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(plugin_id): Path<String>,
) -> ApiResult<Json<PluginView>> {
    if plugin_id.starts_with(BUILTIN_ID_PREFIX) {
        return builtin_views()
            .find(|view| view.id == plugin_id)
            .map(Json)
            .ok_or_else(|| ApiError::NotFound(format!("Plugin {plugin_id} not found")));
    }
    Ok(Json(
        PluginView::from(plugins::get(&state.db, &auth.account_id, &plugin_id).await?)
            .with_source(&state)
            .await?,
    ))
}

/// Deletes an uploaded plugin that no webhook import uses.
#[utoipa::path(delete, path = "/api/v1/plugins/{plugin_id}", tag = "plugins",
    params(("plugin_id" = String, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 409, body = ErrorBody, description = "A built-in, or a plugin an import or webhook uses")))]
async fn delete_plugin(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(plugin_id): Path<String>,
) -> ApiResult<StatusCode> {
    if plugin_id.starts_with(BUILTIN_ID_PREFIX) {
        return Err(ApiError::Conflict(
            "Built-in plugins cannot be deleted".into(),
        ));
    }
    plugins::delete(&state.db, &auth.account_id, &plugin_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Calls the plugin once with the given config and input, with its limits,
/// and reports the output or the named error, fuel used, time and logs.
#[utoipa::path(post, path = "/api/v1/plugins/{plugin_id}/run", tag = "plugins",
    params(("plugin_id" = String, Path)), request_body = DryRunRequest,
    responses((status = 200, body = DryRunResult),
        (status = 422, body = ErrorBody, description = "The plugin does not compile, or the input cannot be passed to it"),
        (status = 503, body = ErrorBody, description = "The plugin sandbox is busy; retry")))]
async fn dry_run(
    State(state): State<AppState>,
    auth: AdminAuth,
    Path(plugin_id): Path<String>,
    JsonBody(request): JsonBody<DryRunRequest>,
) -> ApiResult<Json<DryRunResult>> {
    Ok(Json(
        run_once(&state, &auth.account_id, &plugin_id, &request).await?,
    ))
}

/// Calls a plugin once, as a dry run (the API's and the admin UI's).
pub(crate) async fn run_once(
    state: &AppState,
    account_id: &str,
    plugin_id: &str,
    request: &DryRunRequest,
) -> ApiResult<DryRunResult> {
    let plugin = state.plugins.resolve_any(account_id, plugin_id).await?;
    let document = match plugin.compiled.kind {
        PluginKind::InboundTransform => plugin_trial::transform_document(
            &request.config,
            &request.input,
            request.content_type.as_deref(),
            request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
        .map_err(ApiError::Unprocessable)?,
        PluginKind::PayloadBuilder => abi::payload_call(&request.config, &request.input),
    };
    Ok(DryRunResult::from(
        plugin_trial::call(state, &plugin, document).await?,
    ))
}

impl From<TrialCall> for DryRunResult {
    fn from(call: TrialCall) -> Self {
        let (output, error) = match call.outcome {
            Ok(output) => (Some(output), None),
            Err(error) => (None, Some(error.to_string())),
        };
        Self {
            ok: error.is_none(),
            output,
            error,
            fuel_used: call.fuel_used,
            duration_ms: call.duration_ms,
            logs: call.logs,
        }
    }
}
