//! The HTTP API: one module per resource, each exporting its own `router()`
//! of documented handlers; [`router`] merges them (see [`api_doc`]), serves
//! the OpenAPI document generated from those handlers at `/api/openapi.json`,
//! and adds the layers every request goes through (body limit, request
//! tracing, the access log).

pub(crate) mod access_log;
pub(crate) mod api_doc;
pub(crate) mod api_keys;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod flood_control;
pub(crate) mod funnel_import;
pub(crate) mod funnel_stages;
pub(crate) mod health;
pub(crate) mod integers;
pub(crate) mod leads;
pub(crate) mod plugin_trial;
pub(crate) mod plugins;
pub(crate) mod webhook_imports;
pub(crate) mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri, header};
use axum::middleware;
use axum::routing::get;
use serde::{Deserialize, Deserializer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::outbound::delivery::Deliverer;
use crate::plugins::registry::PluginRegistry;
use crate::storage::Database;
use crate::storage::funnel_updates::FunnelWriter;
use crate::storage::webhook_imports::DirectoryCache;
use error::ApiError;

/// What every handler can reach: one `Arc`, because axum clones the state
/// for every request (cloning each handle inside it cost a dozen atomic
/// increments and a `String` per request).
#[derive(Clone, Debug)]
pub(crate) struct AppState(Arc<AppContext>);

impl AppState {
    pub(crate) fn new(context: AppContext) -> Self {
        Self(Arc::new(context))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppContext;

    fn deref(&self) -> &AppContext {
        &self.0
    }
}

/// The handles behind [`AppState`].
#[derive(Debug)]
pub(crate) struct AppContext {
    pub db: Database,
    /// Base URL the server is reached at, for URLs shown to admins.
    pub public_url: String,
    /// The largest request body accepted (`--max-body-bytes`), for the 413
    /// that says so.
    pub max_body_bytes: usize,
    /// Applies inbound funnel updates with group commit.
    pub funnel_writer: FunnelWriter,
    /// Stage directories of webhook imports, checked for staleness on use.
    pub directory_cache: Arc<DirectoryCache>,
    /// Built-in and uploaded plugins, and the sandbox that runs them.
    pub plugins: PluginRegistry,
    /// Renders and sends outbound webhooks (test sends and previews).
    pub deliverer: Deliverer,
    /// Import rate limits and the cap on undelivered deliveries.
    pub flood_control: flood_control::FloodControl,
}

/// The whole API, ready to serve, with `pages` (the admin web UI) served
/// beside it under the same fallbacks, body limit and tracing. The UI is
/// passed in rather than built here because it is a client of this module
/// (its screens reuse the API's rules), not a part of it.
pub(crate) fn router(state: AppState, pages: Router<AppState>, max_body_bytes: usize) -> Router {
    let (api, generated) = api_doc::routes().split_for_parts();
    // Serialised once: the document does not change while the server runs.
    let document = Bytes::from(api_doc::complete(generated).to_string());
    let api = api.merge(pages);
    api.route(
        "/api/openapi.json",
        get(move || {
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], document) }
        }),
    )
    .fallback(no_such_route)
    .method_not_allowed_fallback(method_not_allowed)
    .layer(DefaultBodyLimit::max(max_body_bytes))
    .layer(TraceLayer::new_for_http())
    .layer(middleware::from_fn(access_log::access_log))
    .with_state(state)
}

/// The router of a worker-only process: the health probes, and a clear
/// 404 for everything else.
pub(crate) fn health_only_router(state: AppState) -> Router {
    let (api, _) = OpenApiRouter::<AppState>::new()
        .merge(health::router())
        .split_for_parts();
    api.fallback(worker_only)
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(access_log::access_log))
        .with_state(state)
}

async fn worker_only(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "No endpoint {method} {}: this process runs with --role worker and serves only /healthz and /readyz",
        uri.path()
    ))
}

async fn no_such_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "No endpoint {method} {}: see /api/openapi.json for the API",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let error = format!(
        "Method {method} is not allowed on {}; see /api/openapi.json",
        uri.path()
    );
    let status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    // The inbound endpoints always answer with `success`, errors included.
    if uri.path().starts_with("/api/v1/webhook-import/") {
        let body = funnel_import::InboundErrorBody {
            success: false,
            error,
        };
        return (status, axum::Json(body)).into_response();
    }
    (status, axum::Json(error::ErrorBody { error })).into_response()
}

/// For PATCH bodies: tells "field absent" (`None`) from "field set to null"
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "present")]`.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
