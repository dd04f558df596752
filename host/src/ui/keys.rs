//! The API keys screen: the account's admin API keys by name (never their
//! secrets), create one (its secret shown once, with a Copy button), and
//! revoke one after a confirmation (not the last one; revoking the key
//! this session was opened with signs it out). Backed by
//! [`crate::storage::api_keys`], as the API is.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::session::Session;
use super::{
    ConfirmPage, Flash, Layout, UiError, UiForm, UiResult, display_time, page, redirect_with_flash,
    render,
};
use crate::http::AppState;
use crate::storage::api_keys;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/keys", get(list).post(create))
        .route("/keys/{id}/revoke", get(confirm_revoke).post(revoke))
}

struct KeyRow {
    id: String,
    name: String,
    created: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    /// A key just created: (name, secret), shown this once.
    created: Option<(String, String)>,
    error: Option<String>,
    new_name: String,
}

struct Extras {
    flash: Flash,
    status: StatusCode,
    created: Option<(String, String)>,
    error: Option<String>,
    new_name: String,
}

async fn render_list(state: &AppState, session: &Session, extras: Extras) -> UiResult {
    let keys = api_keys::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            current: key.id == session.actor.id,
            created: display_time(key.created_at),
            id: key.id,
            name: key.name,
        })
        .collect();
    Ok(render(
        extras.status,
        &KeysPage {
            layout: Layout::new(session, extras.flash, "API keys", "keys"),
            keys,
            created: extras.created,
            error: extras.error,
            new_name: extras.new_name,
        },
    ))
}

async fn list(State(state): State<AppState>, session: Session, flash: Flash) -> UiResult {
    render_list(
        &state,
        &session,
        Extras {
            flash,
            status: StatusCode::OK,
            created: None,
            error: None,
            new_name: String::new(),
        },
    )
    .await
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
        let name = api_keys::parse_name(&form.name)?;
        Ok::<_, UiError>(api_keys::create(&state.db, &session.account_id, &name).await?)
    }
    .await;
    match created {
        Ok((record, secret)) => {
            render_list(
                &state,
                &session,
                Extras {
                    flash: Flash::info(format!("Key “{}” created.", record.name)),
                    status: StatusCode::OK,
                    created: Some((record.name, secret)),
                    error: None,
                    new_name: String::new(),
                },
            )
            .await
        }
        Err(error) => {
            let (status, message) = error.status_and_message();
            render_list(
                &state,
                &session,
                Extras {
                    flash: Flash::default(),
                    status,
                    created: None,
                    error: Some(message),
                    new_name: form.name,
                },
            )
            .await
        }
    }
}

async fn confirm_revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    let key = api_keys::list(&state.db, &session.account_id)
        .await?
        .into_iter()
        .find(|key| key.id == id)
        .ok_or_else(|| UiError::new(StatusCode::NOT_FOUND, format!("API key {id} not found")))?;
    let own = if key.id == session.actor.id {
        " This session was opened with it, so you will be signed out."
    } else {
        ""
    };
    Ok(page(&ConfirmPage {
        layout: Layout::new(&session, Flash::default(), "Revoke a key", "keys"),
        heading: format!("Revoke the key “{}”?", key.name),
        message: format!(
            "It stops working at once, for the API and for the UI sessions opened with it.{own}"
        ),
        action: format!("/keys/{}/revoke", key.id),
        button: "Revoke key",
        cancel: "/keys".into(),
    }))
}

async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> UiResult {
    match api_keys::revoke(&state.db, &session.account_id, &id).await {
        Ok(key) if key.id == session.actor.id => Ok(redirect_with_flash(
            "/sign-in",
            &format!(
                "Key “{}” revoked. This session was opened with it: sign in with another key.",
                key.name
            ),
        )),
        Ok(key) => Ok(redirect_with_flash(
            "/keys",
            &format!("Key “{}” revoked.", key.name),
        )),
        Err(error) => {
            let (status, message) = UiError::from(error).status_and_message();
            render_list(
                &state,
                &session,
                Extras {
                    flash: Flash::default(),
                    status,
                    created: None,
                    error: Some(message),
                    new_name: String::new(),
                },
            )
            .await
        }
    }
}
