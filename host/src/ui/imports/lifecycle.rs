//! An import's life: rename, activate and deactivate, regenerate its
//! token (behind a confirmation that says the old one stops at once), and
//! delete.

use axum::extract::{Path, State};

use super::NameForm;
use super::page::{ImportExtras, render_import};
use crate::http::AppState;
use crate::storage::webhook_imports;
use crate::ui::session::Session;
use crate::ui::{ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, page, redirect_with_flash};

pub(super) async fn rename(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    UiForm(form): UiForm<NameForm>,
) -> UiResult {
    let renamed = async {
        let name = crate::domain::parse_name(&form.name)?;
        Ok::<_, UiError>(webhook_imports::rename(&state.db, &session.account_id, &id, &name).await?)
    }
    .await;
    match renamed {
        Ok(import) => Ok(redirect_with_flash(
            &format!("/imports/{}", import.id),
            &format!("Renamed to “{}”.", import.name),
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
                    error: Some(message),
                    ..ImportExtras::default()
                },
            )
            .await
        }
    }
}

async fn set_active(state: &AppState, session: &Session, id: &str, active: bool) -> UiResult {
    let import = webhook_imports::set_active(&state.db, &session.account_id, id, active).await?;
    let message = if active {
        format!(
            "“{}” is active: it accepts funnel updates sent with its token.",
            import.name
        )
    } else {
        format!(
            "“{}” is inactive: requests with its token are refused until you activate it again. Its settings are kept.",
            import.name
        )
    };
    Ok(redirect_with_flash(
        &format!("/imports/{}", import.id),
        &message,
    ))
}

pub(super) async fn activate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, true).await
}

pub(super) async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    set_active(&state, &session, &id, false).await
}

pub(super) async fn confirm_regenerate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Regenerate token", "imports"),
        heading: format!("Regenerate the token of “{}”?", import.name),
        message: "The current token stops working at once: every request sent with it is \
                  refused until the CRM is given the new token, which is shown only once."
            .into(),
        action: format!("/imports/{}/regenerate", import.id),
        button: "Regenerate token",
        cancel: format!("/imports/{}", import.id),
    }))
}

pub(super) async fn regenerate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let (import, token) =
        webhook_imports::regenerate_token(&state.db, &session.account_id, &id).await?;
    let flash = Flash::info("New token generated. The old one no longer works.");
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

pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Delete an import", "imports"),
        heading: format!("Delete the import “{}”?", import.name),
        message: "Its token stops working at once and its mappings are deleted. Leads and their \
                  history are kept."
            .into(),
        action: format!("/imports/{}/delete", import.id),
        button: "Delete import",
        cancel: format!("/imports/{}", import.id),
    }))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let import = webhook_imports::get(&state.db, &session.account_id, &id).await?;
    webhook_imports::delete(&state.db, &session.account_id, &id).await?;
    Ok(redirect_with_flash(
        "/imports",
        &format!("Import “{}” deleted.", import.name),
    ))
}
