//! The account's plugins: listing them (built-ins first), reading one,
//! reading the source of one built from a script, and deleting an upload.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::views::{PluginList, PluginView, builtin_views};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::AdminAuth;
use crate::plugins::js::Language;
use crate::storage::plugin_sources;
use crate::storage::plugins;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(get_plugin, delete_plugin))
        .routes(routes!(get_source))
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
