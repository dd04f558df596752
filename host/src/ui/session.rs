//! Signing in to the admin UI and out again. The admin pastes an admin API
//! key once; the server checks it as the API does and opens a session
//! ([`crate::storage::ui_sessions`]), whose secret goes to the browser in an
//! `HttpOnly`, `SameSite=Strict` cookie: page scripts never see the key or
//! the session. [`Session`] is the extractor every screen takes.

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, State};
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Flash, Layout, UiError, UiForm, UiResult, cookie, redirect_with_flash, render};
use crate::domain::actor::{Actor, ActorKind};
use crate::http::AppState;
use crate::storage::{accounts, ui_sessions};

/// The cookie that carries the session secret.
pub(crate) const SESSION_COOKIE: &str = "switchyard_session";
/// How long a session lasts from sign-in.
pub(crate) const SESSION_HOURS: i64 = 12;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
}

/// A signed-in admin: the account every screen is scoped to, and the actor
/// recorded as the source of the changes they make (their API key, as
/// through the API).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub account_id: String,
    pub actor: Actor,
}

impl Session {
    async fn from_headers(headers: &HeaderMap, state: &AppState) -> Result<Option<Self>, UiError> {
        let Some(secret) = cookie(headers, SESSION_COOKIE).filter(|secret| !secret.is_empty())
        else {
            return Ok(None);
        };
        let found = ui_sessions::find(&state.db, secret).await?;
        Ok(found.map(|session| Session {
            account_id: session.account_id,
            actor: Actor {
                kind: ActorKind::AdminApiKey,
                id: session.key_id,
                name: session.key_name,
            },
        }))
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Session::from_headers(&parts.headers, state)
            .await?
            .ok_or(UiError::SignIn)
    }
}

impl OptionalFromRequestParts<AppState> for Session {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Session::from_headers(&parts.headers, state).await
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    error: Option<String>,
}

async fn sign_in_form(session: Option<Session>, flash: Flash) -> Response {
    if session.is_some() {
        return Redirect::to("/stages").into_response();
    }
    render(
        StatusCode::OK,
        &SignInPage {
            layout: Layout::signed_out(flash, "Sign in"),
            error: None,
        },
    )
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    api_key: String,
}

async fn sign_in(State(state): State<AppState>, UiForm(form): UiForm<SignInForm>) -> UiResult {
    let refuse = |message: &str| {
        render(
            StatusCode::UNAUTHORIZED,
            &SignInPage {
                layout: Layout::signed_out(Flash::default(), "Sign in"),
                error: Some(message.to_owned()),
            },
        )
    };
    let key = form.api_key.trim();
    if key.is_empty() {
        return Ok(refuse(
            "Paste an admin API key: the server printed one on its first start.",
        ));
    }
    let Some(owner) = accounts::find_api_key(&state.db, key).await? else {
        return Ok(refuse(
            "That is not a valid admin API key. Use the key the server printed on its first \
             start, or create an account and key with `switchyard account create NAME`.",
        ));
    };
    let secret = ui_sessions::create(&state.db, &owner, SESSION_HOURS * 3_600 * 1_000_000).await?;
    let mut response = redirect_with_flash(
        "/stages",
        &format!("Signed in with the key “{}”.", owner.key_name),
    );
    let secure = if state.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_HOURS * 3_600
    );
    let value = HeaderValue::from_str(&cookie)
        .map_err(|error| UiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> UiResult {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE).filter(|secret| !secret.is_empty()) {
        ui_sessions::delete(&state.db, secret).await?;
    }
    let mut response = redirect_with_flash("/sign-in", "Signed out.");
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "switchyard_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}
