//! A plugin's page: kind, hash, size, limits, where it is attached, its
//! source when it was built from a script, a dry run, and delete.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::{RunResult, kilobytes};
use crate::domain::plugin::BUILTIN_ID_PREFIX;
use crate::http::AppState;
use crate::http::plugins::{DryRunRequest, PluginView, builtin_views, run_once};
use crate::storage::{plugin_sources, plugins, webhook_imports, webhooks};
use crate::ui::session::Session;
use crate::ui::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, page, redirect_with_flash, render,
};

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
    /// The script the plugin was built from, if it was.
    source: Option<SourceView>,
    source_error: Option<String>,
}

/// A script plugin's source, as stored or as just submitted.
struct SourceView {
    language: String,
    filename: String,
    text: String,
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

/// What a plugin's page shows besides the plugin itself.
pub(super) struct PluginExtras {
    pub(super) flash: Flash,
    pub(super) status: StatusCode,
    pub(super) config: String,
    pub(super) input: String,
    pub(super) result: Option<RunResult>,
    pub(super) error: Option<String>,
    /// The source as submitted, when saving it was refused.
    pub(super) source: Option<String>,
    pub(super) source_error: Option<String>,
}

impl Default for PluginExtras {
    fn default() -> Self {
        PluginExtras {
            flash: Flash::default(),
            status: StatusCode::OK,
            config: "{}".into(),
            input: String::new(),
            result: None,
            error: None,
            source: None,
            source_error: None,
        }
    }
}

pub(super) async fn render_plugin(
    state: &AppState,
    session: &Session,
    id: &str,
    extras: PluginExtras,
) -> UiResult {
    let plugin = find(state, session, id).await?;
    let used_by = users(state, session, id).await?;
    let source = if plugin.builtin {
        None
    } else {
        plugin_sources::of_module(&state.db, &plugin.sha256)
            .await?
            .map(|stored| SourceView {
                language: stored.language.as_str().to_owned(),
                filename: stored.filename,
                text: extras.source.clone().unwrap_or(stored.source),
            })
    };
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
            source,
            source_error: extras.source_error,
        },
    ))
}

pub(super) async fn show(
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
            ..PluginExtras::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct RunForm {
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

pub(super) async fn dry_run(
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
        Ok(result) => (StatusCode::OK, Some(RunResult::from(result)), None),
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
            status,
            config: form.config,
            input: form.input,
            result,
            error,
            ..PluginExtras::default()
        },
    )
    .await
}

pub(super) async fn confirm_delete(
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

pub(super) async fn delete(
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
                    status,
                    error: Some(message),
                    ..PluginExtras::default()
                },
            )
            .await
        }
    }
}
