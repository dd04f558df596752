//! The admin web UI, served by the same process under `/` (the JSON API
//! stays under `/api`): HTML rendered on the server from the templates in
//! `host/templates` (askama, which escapes every value), progressively
//! enhanced by one vendored htmx file, with the stylesheet, script and htmx
//! compiled into the binary. Every form works without JavaScript.
//!
//! This module owns what every screen shares: the router, the layout data,
//! error pages, static assets; [`flash`] holds the messages a redirect
//! leaves for the next page, and [`security`] the two layers every UI
//! response goes through: security headers (a CSP without inline script,
//! `X-Frame-Options: DENY`) and the cross-site request check that refuses
//! state-changing requests from other origins. Sign-in lives in
//! [`session`]; each screen in its own module, calling the same storage and
//! domain functions as the JSON API.

mod flash;
pub(crate) mod imports;
pub(crate) mod keys;
pub(crate) mod leads;
pub(crate) mod plugins;
pub(crate) mod recovery;
mod security;
pub(crate) mod session;
pub(crate) mod stages;
pub(crate) mod webhooks;

use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Path, Request};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::domain::InvalidInput;
use crate::domain::secrets::sha256_hex;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::storage::StoreError;
pub(crate) use flash::{Flash, redirect_with_flash, redirect_with_warning};
use session::Session;

/// The pinned htmx release, vendored from the npm package `htmx.org`.
const HTMX_FILE: &str = "htmx-2.0.11.min.js";
const HTMX: &str = include_str!("../../assets/htmx-2.0.11.min.js");
const STYLESHEET: &str = include_str!("../../assets/app.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

/// Assets are served under a path naming their content, so browsers may
/// keep them forever and still get new ones after an upgrade.
static ASSETS_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = sha256_hex(format!("{HTMX}{STYLESHEET}{SCRIPT}").as_bytes());
    format!("/assets/{}", &digest[..12])
});

/// The UI's routes, with their layers. Mounted beside the API.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .merge(session::router())
        .merge(stages::router())
        .merge(imports::router())
        .merge(leads::router())
        .merge(webhooks::router())
        .merge(recovery::router())
        .merge(plugins::router())
        .merge(keys::router())
        .route("/assets/{version}/{file}", get(asset))
        .layer(middleware::from_fn_with_state(
            state,
            security::refuse_cross_site,
        ))
        .layer(middleware::from_fn(security::ui_headers))
}

/// `/`: the funnel for a signed-in admin, the sign-in form otherwise.
async fn home(session: Option<Session>) -> Redirect {
    match session {
        Some(_) => Redirect::to("/stages"),
        None => Redirect::to("/sign-in"),
    }
}

async fn asset(Path((version, file)): Path<(String, String)>) -> Response {
    let (body, content_type) = match file.as_str() {
        HTMX_FILE => (HTMX, "text/javascript; charset=utf-8"),
        "app.css" => (STYLESHEET, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "No such asset").into_response(),
    };
    let current = ASSETS_PATH.rsplit('/').next().unwrap_or_default() == version;
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        // An old page asking for an old version gets today's file, briefly.
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// What the layout of every page shows besides the page itself.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub title: String,
    /// Which navigation entry is current: `stages`, `imports`, `leads`,
    /// `webhooks`, `plugins`, `keys`.
    pub nav: &'static str,
    pub signed_in: bool,
    /// The name of the API key the session was opened with.
    pub key_name: String,
    pub flash: Option<String>,
    /// The flash reports a failure (a test send the receiver refused):
    /// shown as an alert, not as a success.
    pub flash_warning: bool,
    pub assets: &'static str,
}

impl Layout {
    pub(crate) fn new(
        session: &Session,
        flash: Flash,
        title: impl Into<String>,
        nav: &'static str,
    ) -> Self {
        Self {
            title: title.into(),
            nav,
            signed_in: true,
            key_name: session.actor.name.clone(),
            flash: flash.message,
            flash_warning: flash.warning,
            assets: ASSETS_PATH.as_str(),
        }
    }

    /// The layout of a page shown without a session (sign-in, errors).
    pub(crate) fn signed_out(flash: Flash, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            nav: "",
            signed_in: false,
            key_name: String::new(),
            flash: flash.message,
            flash_warning: flash.warning,
            assets: ASSETS_PATH.as_str(),
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Renders a page with a status.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a UI template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered; the details have been logged.",
            )
                .into_response()
        }
    }
}

/// A page with status 200.
pub(crate) fn page(page: &impl Template) -> Response {
    render(StatusCode::OK, page)
}

/// A time as admins read it: `2026-11-23 11:32:06 UTC`.
pub(crate) fn display_time(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A failed UI request: the sign-in form for a missing session, otherwise
/// an error page with the message an admin can act on.
#[derive(Debug)]
pub(crate) enum UiError {
    SignIn,
    Page { status: StatusCode, message: String },
}

impl UiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        UiError::Page {
            status,
            message: message.into(),
        }
    }

    /// The status and message, for a page that shows them in place.
    pub(crate) fn status_and_message(self) -> (StatusCode, String) {
        match self {
            UiError::SignIn => (StatusCode::UNAUTHORIZED, "Sign in again.".into()),
            UiError::Page { status, message } => (status, message),
        }
    }
}

pub(crate) type UiResult<T = Response> = Result<T, UiError>;

impl From<ApiError> for UiError {
    fn from(error: ApiError) -> Self {
        let (status, message) = error.status_and_message();
        UiError::Page { status, message }
    }
}

impl From<StoreError> for UiError {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<InvalidInput> for UiError {
    fn from(error: InvalidInput) -> Self {
        UiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.0)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn => redirect_with_flash("/sign-in", "Sign in to continue."),
            UiError::Page { status, message } => {
                let heading = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Refused",
                    StatusCode::CONFLICT => "Not possible right now",
                    status if status.is_server_error() => "Something went wrong",
                    _ => "That did not work",
                };
                render(
                    status,
                    &ErrorPage {
                        layout: Layout::signed_out(Flash::default(), heading),
                        status: status.as_u16(),
                        heading,
                        message,
                    },
                )
            }
        }
    }
}

/// An `application/x-www-form-urlencoded` body; a malformed one is an error
/// page naming the problem.
pub(crate) struct UiForm<T>(pub T);

impl<S, T> FromRequest<S> for UiForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = UiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(request, state)
            .await
            .map(|form| UiForm(form.0))
            .map_err(|rejection: FormRejection| {
                UiError::new(
                    rejection.status(),
                    format!("The form could not be read: {}", rejection.body_text()),
                )
            })
    }
}

/// The confirmation page of a destructive action: says what will happen,
/// posts to `action` on confirmation, links back to `cancel` otherwise.
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub layout: Layout,
    pub heading: String,
    pub message: String,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let map = headers(&[("cookie", "a=1; switchyard_flash=abc; switchyard_flashy=x")]);
        assert_eq!(cookie(&map, "switchyard_flash"), Some("abc"));
        assert_eq!(cookie(&map, "a"), Some("1"));
        assert_eq!(cookie(&map, "b"), None);
    }
}
