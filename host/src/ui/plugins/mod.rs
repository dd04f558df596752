//! The plugins screens, one concept per file:
//!
//! - here: built-ins and uploads; upload a `.wasm` module, or a `.js` or
//!   `.ts` script the server builds, with a name and kind (a multipart
//!   form, so it works without JavaScript);
//! - `page`: a plugin's page with its kind, hash, size, limits and where
//!   it is attached; a dry run with a JSON config and input showing the
//!   output or the named error, fuel, time and logs; delete (refused while
//!   attached, with where);
//! - `source`: a script plugin's source, shown and edited on its page;
//!   saving rebuilds it through the upload's own build.
//!
//! Backed by the API's own upload, dry-run and delete code. A dry run's
//! result as a page shows it ([`RunResult`]) lives here too: an import's
//! "Try it" shows its transform's the same way.

mod page;
mod source;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

use super::session::Session;
use super::{Flash, Layout, UiError, UiResult, redirect_with_flash, render};
use crate::domain::plugin::PluginKind;
use crate::http::AppState;
use crate::http::plugins::{DryRunResult, PluginView, UploadParams, builtin_views, upload};
use crate::plugins::runtime::MAX_MODULE_BYTES;
use crate::storage::plugins;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/plugins",
            get(list)
                .post(create)
                // Modules are larger than ordinary form bodies.
                .layer(DefaultBodyLimit::max(MAX_MODULE_BYTES + 64 * 1024)),
        )
        .route("/plugins/{id}", get(page::show))
        .route("/plugins/{id}/run", post(page::dry_run))
        .route("/plugins/{id}/source", post(source::save))
        .route(
            "/plugins/{id}/delete",
            get(page::confirm_delete).post(page::delete),
        )
}

/// What a dry run gave, as the pages show it: a plugin's page, and an
/// import's "Try it" (its saved transform on a pasted body).
pub(crate) struct RunResult {
    pub ok: bool,
    /// The plugin's `ok` value, pretty-printed.
    pub output: Option<String>,
    pub error: Option<String>,
    pub fuel: u64,
    pub duration: String,
    pub logs: Vec<String>,
}

impl From<DryRunResult> for RunResult {
    fn from(result: DryRunResult) -> Self {
        Self {
            ok: result.ok,
            output: result
                .output
                .and_then(|output| serde_json::to_string_pretty(&output).ok()),
            error: result.error,
            fuel: result.fuel_used,
            duration: milliseconds(result.duration_ms),
            logs: result.logs,
        }
    }
}

/// A call's duration as the pages show it.
pub(crate) fn milliseconds(duration_ms: f64) -> String {
    format!("{duration_ms:.2} ms")
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
    /// The uploaded file's name: a `.js` or `.ts` one is a script.
    filename: String,
}

/// The script language of an uploaded file, by its extension; `None` for
/// a Wasm module.
fn script_language(filename: &str) -> Option<&'static str> {
    let extension = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    match extension.as_str() {
        "js" | "mjs" => Some("js"),
        "ts" | "mts" => Some("ts"),
        _ => None,
    }
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
        filename: String::new(),
    };
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "name" => upload.name = field.text().await.map_err(unreadable)?,
            "kind" => upload.kind = field.text().await.map_err(unreadable)?,
            "module" => {
                upload.filename = field.file_name().unwrap_or_default().to_owned();
                upload.module = field.bytes().await.map_err(unreadable)?.to_vec();
            }
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
                "Choose the .wasm module (or the .js or .ts script) to upload.",
            ));
        }
        let params = UploadParams {
            name: upload_form.name.clone(),
            kind,
            fuel: None,
            memory_bytes: None,
            time_limit_ms: None,
            output_bytes: None,
            language: script_language(&upload_form.filename).map(str::to_owned),
            filename: script_language(&upload_form.filename).map(|_| upload_form.filename.clone()),
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

#[cfg(test)]
mod tests {
    use super::{kilobytes, script_language};

    #[test]
    fn sizes_read_in_kibibytes() {
        assert_eq!(kilobytes(2048), "2.0 KiB");
        assert_eq!(kilobytes(1536), "1.5 KiB");
    }

    #[test]
    fn scripts_are_told_by_their_extension() {
        assert_eq!(script_language("transform.js"), Some("js"));
        assert_eq!(script_language("Payload.TS"), Some("ts"));
        assert_eq!(script_language("plugin.wasm"), None);
        assert_eq!(script_language("noextension"), None);
    }
}
