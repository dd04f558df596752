//! The webhook imports screens, one concept per file:
//!
//! - here: the list and creating an import;
//! - `page`: an import's page with its endpoint URLs, its token (shown
//!   once, after creation or regeneration, with a Copy button) and every
//!   section below;
//! - `mappings`: stage mappings as rows of a name and a stage dropdown,
//!   refusals explained on the row at fault;
//! - `transform`: a transform plugin with its JSON config, tested on a
//!   sample body before it is saved, and a "try it" box that runs a
//!   pasted body through the saved one;
//! - `lead_sync`: whether the transform's lead records may create leads;
//! - `rate_limit`: how many inbound requests the import accepts;
//! - `lifecycle`: activation, rename, token regeneration and delete.
//!
//! Backed by [`crate::storage::webhook_imports`] and the API's own
//! transform and dry-run functions.

mod lead_sync;
mod lifecycle;
mod mappings;
mod page;
mod rate_limit;
mod transform;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::Session;
use super::{Flash, Layout, UiError, UiForm, UiResult, display_time, render};
use crate::http::AppState;
use crate::storage::webhook_imports;
use page::{ImportExtras, render_import};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", get(list).post(create))
        .route("/imports/{id}", get(page::show))
        .route("/imports/{id}/rename", post(lifecycle::rename))
        .route("/imports/{id}/activate", post(lifecycle::activate))
        .route("/imports/{id}/deactivate", post(lifecycle::deactivate))
        .route("/imports/{id}/mappings", post(mappings::save_mappings))
        .route("/imports/{id}/transform", post(transform::save_transform))
        .route("/imports/{id}/try", post(transform::try_transform))
        .route("/imports/{id}/lead-sync", post(lead_sync::save))
        .route("/imports/{id}/rate-limit", post(rate_limit::save))
        .route(
            "/imports/{id}/regenerate",
            get(lifecycle::confirm_regenerate).post(lifecycle::regenerate),
        )
        .route(
            "/imports/{id}/delete",
            get(lifecycle::confirm_delete).post(lifecycle::delete),
        )
}

struct ImportRow {
    id: String,
    name: String,
    active: bool,
    transform: Option<String>,
    created: String,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    layout: Layout,
    imports: Vec<ImportRow>,
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
    let imports = webhook_imports::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|import| ImportRow {
            active: import.active != 0,
            transform: import.transform_plugin_id,
            created: display_time(import.created_at),
            id: import.id,
            name: import.name,
        })
        .collect();
    Ok(render(
        status,
        &ImportsPage {
            layout: Layout::new(session, flash, "Webhook imports", "imports"),
            imports,
            error,
            new_name,
        },
    ))
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    render_list(&state, &session, flash, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    name: String,
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    UiForm(form): UiForm<NameForm>,
) -> UiResult {
    let created = async {
        let name = crate::domain::parse_name(&form.name)?;
        Ok::<_, UiError>(webhook_imports::create(&state.db, &session.account_id, &name).await?)
    }
    .await;
    match created {
        Ok((import, token)) => {
            let flash = Flash::info(format!(
                "Import “{}” created. It is inactive until you activate it.",
                import.name
            ));
            render_import(
                &state,
                &session,
                import,
                ImportExtras {
                    flash,
                    token: Some(token),
                    ..ImportExtras::default()
                },
            )
            .await
        }
        Err(error) => {
            let (status, message) = error.status_and_message();
            render_list(
                &state,
                &session,
                Flash::default(),
                status,
                Some(message),
                form.name,
            )
            .await
        }
    }
}
