//! A script plugin's source on its page: edited and saved, it is rebuilt
//! through the same build as an upload of the script
//! ([`crate::plugins::registry::PluginRegistry::replace_script`]); the
//! plugin keeps its id, so what uses it runs the new build from its next
//! call. A script that does not build (a syntax error names its line and
//! column) changes nothing and is shown again with the error.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::page::{PluginExtras, render_plugin};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::plugins::registry::Script;
use crate::storage::{plugin_sources, plugins};
use crate::ui::session::Session;
use crate::ui::{UiError, UiForm, UiResult, redirect_with_flash};

#[derive(Deserialize)]
pub(super) struct SourceForm {
    #[serde(default)]
    source: String,
}

/// `POST /plugins/{id}/source`: rebuilds the plugin from the edited
/// source.
pub(super) async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<SourceForm>,
) -> UiResult {
    let record = plugins::get(&state.db, &session.account_id, &id).await?;
    let stored = plugin_sources::of_module(&state.db, &record.sha256)
        .await?
        .ok_or_else(|| {
            UiError::new(
                StatusCode::NOT_FOUND,
                format!("Plugin {id} was not built from a script; it has no source to edit."),
            )
        })?;
    let language = stored.language;
    // Browsers send textarea lines with CRLF; keep the author's LF.
    let source = form.source.replace("\r\n", "\n");
    let script = Script {
        language,
        filename: stored.filename,
        source: source.clone(),
    };
    match state
        .plugins
        .replace_script(&session.account_id, &id, script)
        .await
    {
        Ok(rebuilt) if rebuilt.sha256 == record.sha256 => Ok(redirect_with_flash(
            &format!("/plugins/{id}#source-heading"),
            "The source is unchanged; nothing was rebuilt.",
        )),
        Ok(rebuilt) => Ok(redirect_with_flash(
            &format!("/plugins/{id}#source-heading"),
            &format!(
                "Source saved and rebuilt (module {}…): what uses “{}” runs it from its next call.",
                &rebuilt.sha256[..12.min(rebuilt.sha256.len())],
                rebuilt.name
            ),
        )),
        Err(error) => {
            let (status, message) = UiError::from(ApiError::from(error)).status_and_message();
            render_plugin(
                &state,
                &session,
                &id,
                PluginExtras {
                    status,
                    source: Some(source),
                    source_error: Some(format!("Not saved: {message}")),
                    ..PluginExtras::default()
                },
            )
            .await
        }
    }
}
