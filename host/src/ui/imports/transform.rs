//! An import's transform: attach a plugin with its JSON config (checked
//! by the API's own `attach_transform`), remove it, and try it on a
//! pasted body without writing anything.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::page::{ImportExtras, TryResult, render_import};
use crate::http::AppState;
use crate::http::plugins::{DryRunRequest, run_once};
use crate::http::webhook_imports::{ImportTransform, attach_transform};
use crate::storage::webhook_imports;
use crate::ui::session::Session;
use crate::ui::{UiError, UiForm, UiResult, redirect_with_flash};

#[derive(Deserialize)]
pub(super) struct TransformForm {
    #[serde(default)]
    plugin_id: String,
    #[serde(default)]
    config: String,
}

pub(super) async fn save_transform(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TransformForm>,
) -> UiResult {
    let plugin_id = form.plugin_id.trim().to_owned();
    if plugin_id.is_empty() {
        let import =
            webhook_imports::set_transform(&state.db, &session.account_id, &id, None).await?;
        return Ok(redirect_with_flash(
            &format!("/imports/{}#transform", import.id),
            "Transform removed: the endpoints expect {\"lead_profile_uid\", \"funnel_stage\"} again.",
        ));
    }
    let attached = async {
        let config = if form.config.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_str(&form.config).map_err(|error| {
                UiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("The config is not valid JSON: {error}"),
                )
            })?
        };
        let transform = ImportTransform {
            plugin_id: plugin_id.clone(),
            config,
        };
        Ok::<_, UiError>(attach_transform(&state, &session.account_id, &id, &transform).await?)
    }
    .await;
    match attached {
        Ok(import) => Ok(redirect_with_flash(
            &format!("/imports/{}#transform", import.id),
            &format!("Transform {plugin_id} attached: both endpoints now accept any body."),
        )),
        Err(error) => {
            let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
            let (status, message) = error.status_and_message();
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    status: Some(status),
                    transform: Some((plugin_id, form.config)),
                    transform_error: Some(message),
                    ..ImportExtras::default()
                },
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TryForm {
    #[serde(default)]
    input: String,
}

pub(super) async fn try_transform(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<TryForm>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    let Some(plugin_id) = import.transform_plugin_id.clone() else {
        return render_import(
            &state,
            &session,
            import,
            ImportExtras {
                status: Some(StatusCode::CONFLICT),
                transform_error: Some("Attach a transform first, then try it.".into()),
                try_input: form.input,
                ..ImportExtras::default()
            },
        )
        .await;
    };
    let config = import
        .transform_config
        .as_deref()
        .and_then(|config| serde_json::from_str(config).ok())
        .unwrap_or(serde_json::Value::Null);
    // A JSON body is sent as JSON, anything else as text.
    let (input, content_type) = match serde_json::from_str(&form.input) {
        Ok(json) => (json, None),
        Err(_) => (
            serde_json::Value::String(form.input.clone()),
            Some("text/plain".to_owned()),
        ),
    };
    let request = DryRunRequest {
        config,
        input,
        content_type,
        headers: Default::default(),
    };
    let (status, try_result, transform_error) =
        match run_once(&state, &session.account_id, &plugin_id, &request).await {
            Ok(result) => (
                StatusCode::OK,
                Some(TryResult {
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
                let (status, message) = UiError::from(error).status_and_message();
                (status, None, Some(message))
            }
        };
    render_import(
        &state,
        &session,
        import,
        ImportExtras {
            status: Some(status),
            try_input: form.input,
            try_result,
            transform_error,
            ..ImportExtras::default()
        },
    )
    .await
}
