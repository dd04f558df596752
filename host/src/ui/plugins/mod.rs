//! The plugins screens: built-ins and uploads; upload a `.wasm` file with a
//! name and kind (a multipart form, so it works without JavaScript); a
//! plugin's page with its kind, hash, size, limits and where it is
//! attached; a dry run with a JSON config and input showing the output or
//! the named error, fuel, time and logs; delete (refused while attached,
//! with where). Backed by the API's own upload, dry-run and delete code.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, page, redirect_with_flash, render,
};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::domain::plugin::PluginKind;
use crate::http::AppState;
use crate::http::plugins::{
    DryRunRequest, PluginView, UploadParams, builtin_views, run_once, upload,
};
use crate::plugins::runtime::MAX_MODULE_BYTES;
use crate::storage::{plugins, webhook_imports, webhooks};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/plugins",
            get(list)
                .post(create)
                // Modules are larger than ordinary form bodies.
                .layer(DefaultBodyLimit::max(MAX_MODULE_BYTES + 64 * 1024)),
        )
        .route("/plugins/{id}", get(show))
        .route("/plugins/{id}/run", post(dry_run))
        .route("/plugins/{id}/delete", get(confirm_delete).post(delete))
}

struct PluginRow {
    id: String,
    name: String,
    kind: &'static str,
    builtin: bool,
    size: String,
    uploaded: String,
}

fn kilobytes(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[derive(Template)]
#[template(path = "plugins.html")]
struct PluginsPage {
    layout: Layout,
    plugins: Vec<PluginRow>,
    error: Option<String>,
    new_name: String,
}

async fn render_list(
    state: &AppState,
    session: &Session,
    flash: Flash,
    status: StatusCode,
    error: Option<String>,
    new_name: String,
) -> UiResult {
    let uploaded = plugins::list(&state.db, &session.account_id).await?;
    let rows = builtin_views()
        .chain(uploaded.into_iter().map(PluginView::from))
        .map(|plugin| PluginRow {
            kind: plugin.kind.as_str(),
            builtin: plugin.builtin,
            size: kilobytes(plugin.size_bytes),
            uploaded: plugin.created_at.unwrap_or_default(),
            id: plugin.id,
            name: plugin.name,
        })
        .collect();
    Ok(render(
        status,
        &PluginsPage {
            layout: Layout::new(session, flash, "Plugins", "plugins"),
            plugins: rows,
            error,
            new_name,
        },
    ))
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    render_list(&state, &session, flash, StatusCode::OK, None, String::new()).await
}

/// The upload form's fields.
struct Upload {
    name: String,
    kind: String,
    module: Vec<u8>,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, UiError> {
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        UiError::new(
            error.status(),
            format!("The upload could not be read: {}", error.body_text()),
        )
    };
    let mut upload = Upload {
        name: String::new(),
        kind: String::new(),
        module: Vec::new(),
    };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "name" => upload.name = field.text().await.map_err(unreadable)?,
            "kind" => upload.kind = field.text().await.map_err(unreadable)?,
            "module" => upload.module = field.bytes().await.map_err(unreadable)?.to_vec(),
            _ => {}
        }
    }
    Ok(upload)
}

async fn create(State(state): State<AppState>, session: Session, form: Multipart) -> UiResult {
    let upload_form = read_upload(form).await?;
    let uploaded = async {
        let kind = match upload_form.kind.as_str() {
            "inbound-transform" => PluginKind::InboundTransform,
            "payload-builder" => PluginKind::PayloadBuilder,
            _ => {
                return Err(UiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Choose the plugin's kind: inbound transform or payload builder.",
                ));
            }
        };
        if upload_form.module.is_empty() {
            return Err(UiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Choose the .wasm file to upload.",
            ));
        }
        let params = UploadParams {
            name: upload_form.name.clone(),
            kind,
            fuel: None,
            memory_bytes: None,
            time_limit_ms: None,
            output_bytes: None,
            language: None,
            filename: None,
        };
        Ok(upload(&state, &session.account_id, &params, upload_form.module).await?)
    }
    .await;
    match uploaded {
        Ok(record) => Ok(redirect_with_flash(
            &format!("/plugins/{}", record.id),
            &format!("Plugin “{}” uploaded, validated and compiled.", record.name),
        )),
        Err(error) => {
            let (status, message) = error.status_and_message();
            render_list(
                &state,
                &session,
                Flash::default(),
                status,
                Some(message),
                upload_form.name,
            )
            .await
        }
    }
}

/// What a dry run gave.
struct RunResult {
    ok: bool,
    output: Option<String>,
    error: Option<String>,
    fuel: u64,
    duration: String,
    logs: Vec<String>,
}

#[derive(Template)]
#[template(path = "plugin.html")]
struct PluginPage {
    layout: Layout,
    id: String,
    name: String,
    kind: &'static str,
    builtin: bool,
    fields: Vec<(&'static str, String)>,
    used_by: Vec<(String, String)>,
    config: String,
    input: String,
    result: Option<RunResult>,
    error: Option<String>,
}

/// A plugin's view, built in or uploaded.
async fn find(state: &AppState, session: &Session, id: &str) -> Result<PluginView, UiError> {
    if id.starts_with(BUILTIN_ID_PREFIX) {
        return builtin_views()
            .find(|view| view.id == id)
            .ok_or_else(|| UiError::new(StatusCode::NOT_FOUND, format!("Plugin {id} not found")));
    }
    Ok(plugins::get(&state.db, &session.account_id, id)
        .await?
        .into())
}

/// Where a plugin is used: (link, label) of each import and webhook.
async fn users(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<Vec<(String, String)>, UiError> {
    let mut found = Vec::new();
    for import in webhook_imports::list(&state.db, &session.account_id).await? {
        if import.transform_plugin_id.as_deref() == Some(id) {
            found.push((
                format!("/imports/{}", import.id),
                format!("webhook import “{}” (transform)", import.name),
            ));
        }
    }
    for webhook in webhooks::list(&state.db, &session.account_id).await? {
        if webhook.settings.payload_format.as_str() == id
            || webhook.settings.payload_format.plugin_id() == id
        {
            found.push((
                format!("/webhooks/{}", webhook.id),
                format!("webhook “{}” (payload format)", webhook.settings.name),
            ));
        }
    }
    Ok(found)
}

struct PluginExtras {
    flash: Flash,
    status: StatusCode,
    config: String,
    input: String,
    result: Option<RunResult>,
    error: Option<String>,
}

async fn render_plugin(
    state: &AppState,
    session: &Session,
    id: &str,
    extras: PluginExtras,
) -> UiResult {
    let plugin = find(state, session, id).await?;
    let used_by = users(state, session, id).await?;
    let limits = plugin.limits;
    let fields = vec![
        ("Kind", plugin.kind.as_str().to_owned()),
        ("SHA-256", plugin.sha256.clone()),
        ("Size", kilobytes(plugin.size_bytes)),
        ("Fuel", limits.fuel.to_string()),
        ("Memory", kilobytes(limits.memory_bytes)),
        ("Time limit", format!("{} ms", limits.time_limit_ms)),
        ("Largest output", kilobytes(limits.output_bytes)),
        (
            "Uploaded",
            plugin
                .created_at
                .clone()
                .unwrap_or_else(|| "built in".into()),
        ),
    ];
    Ok(render(
        extras.status,
        &PluginPage {
            layout: Layout::new(session, extras.flash, plugin.name.clone(), "plugins"),
            kind: plugin.kind.as_str(),
            builtin: plugin.builtin,
            id: plugin.id,
            name: plugin.name,
            fields,
            used_by,
            config: extras.config,
            input: extras.input,
            result: extras.result,
            error: extras.error,
        },
    ))
}

async fn show(
    State(state): State<AppState>,
    session: Session,
    flash: Flash,
    Path(id): Path<String>,
) -> UiResult {
    render_plugin(
        &state,
        &session,
        &id,
        PluginExtras {
            flash,
            status: StatusCode::OK,
            config: "{}".into(),
            input: String::new(),
            result: None,
            error: None,
        },
    )
    .await
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    config: String,
    #[serde(default)]
    input: String,
}

fn parse_json(label: &str, text: &str) -> Result<Value, UiError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|error| {
        UiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The {label} is not valid JSON: {error}"),
        )
    })
}

async fn dry_run(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<RunForm>,
) -> UiResult {
    let ran = async {
        let request = DryRunRequest {
            config: parse_json("config", &form.config)?,
            input: parse_json("input", &form.input)?,
            content_type: None,
            headers: Default::default(),
        };
        Ok::<_, UiError>(run_once(&state, &session.account_id, &id, &request).await?)
    }
    .await;
    let (status, result, error) = match ran {
        Ok(result) => (
            StatusCode::OK,
            Some(RunResult {
                ok: result.ok,
                output: result
                    .output
                    .and_then(|output| serde_json::to_string_pretty(&output).ok()),
                error: result.error,
                fuel: result.fuel_used,
                duration: format!("{:.2} ms", result.duration_ms),
                logs: result.logs,
            }),
            None,
        ),
        Err(error) => {
            let (status, message) = error.status_and_message();
            (status, None, Some(message))
        }
    };
    render_plugin(
        &state,
        &session,
        &id,
        PluginExtras {
            flash: Flash::default(),
            status,
            config: form.config,
            input: form.input,
            result,
            error,
        },
    )
    .await
}

async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let plugin = find(&state, &session, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete a plugin", "plugins"),
        heading: format!("Delete the plugin “{}”?", plugin.name),
        message: "It is refused while a webhook import or a webhook uses it.".into(),
        action: format!("/plugins/{}/delete", plugin.id),
        button: "Delete plugin",
        cancel: format!("/plugins/{}", plugin.id),
    }))
}

async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let plugin = find(&state, &session, &id).await?;
    if plugin.builtin {
        return Err(UiError::new(
            StatusCode::CONFLICT,
            "Built-in plugins cannot be deleted.",
        ));
    }
    match plugins::delete(&state.db, &session.account_id, &id).await {
        Ok(()) => Ok(redirect_with_flash(
            "/plugins",
            &format!("Plugin “{}” deleted.", plugin.name),
        )),
        Err(error) => {
            let (status, message) = UiError::from(error).status_and_message();
            render_plugin(
                &state,
                &session,
                &id,
                PluginExtras {
                    flash: Flash::default(),
                    status,
                    config: "{}".into(),
                    input: String::new(),
                    result: None,
                    error: Some(message),
                },
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::kilobytes;

    #[test]
    fn sizes_read_in_kibibytes() {
        assert_eq!(kilobytes(2048), "2.0 KiB");
        assert_eq!(kilobytes(1536), "1.5 KiB");
    }
}
