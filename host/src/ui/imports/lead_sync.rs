//! Lead sync (issue 14): whether lead records a transform returns may
//! create a lead when none matches. Off by default; records always
//! update the leads they match.

use axum::extract::{Path, State};
use serde::Deserialize;

use crate::http::AppState;
use crate::storage::webhook_imports;
use crate::ui::session::Session;
use crate::ui::{UiForm, UiResult, redirect_with_flash};

#[derive(Deserialize)]
pub(super) struct LeadSyncForm {
    /// The checkbox: present when ticked.
    #[serde(default)]
    create_leads: Option<String>,
}

/// `POST /imports/{id}/lead-sync`: saves the "create leads" toggle.
pub(super) async fn save(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<LeadSyncForm>,
) -> UiResult {
    let create = form.create_leads.is_some();
    let import =
        webhook_imports::set_create_leads(&state.db, &session.account_id, &id, create).await?;
    let message = if create {
        format!(
            "“{}” creates leads: a lead record that matches no lead makes a new one.",
            import.name
        )
    } else {
        format!(
            "“{}” no longer creates leads: a lead record that matches no lead fails, and the others still apply.",
            import.name
        )
    };
    Ok(redirect_with_flash(
        &format!("/imports/{}#lead-sync", import.id),
        &message,
    ))
}
