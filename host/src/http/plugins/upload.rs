//! Uploading a plugin: a Wasm module, or a JavaScript or TypeScript script
//! that the server builds into one and keeps; the checks of its name, file
//! name and limits (the API's and the admin UI's).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::views::PluginView;
use crate::domain::plugin::{BUILTIN_ID_PREFIX, PluginKind, PluginLimits};
use crate::http::AppState;
use crate::http::api_doc::{ScriptSource, WasmModule};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AdminAuth, ApiQuery, body_rejection};
use crate::plugins::js::Language;
use crate::plugins::registry::Script;
use crate::plugins::runtime::MAX_MODULE_BYTES;
use crate::storage::plugins::PluginRecord;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_plugin))
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
    #[param(value_type = Option<crate::http::api_doc::ScriptLanguage>, inline)]
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
