//! The admin web UI, served by the same process under `/` (the JSON API
//! stays under `/api`): HTML rendered on the server from the templates in
//! `host/templates` (askama, which escapes every value), progressively
//! enhanced by one vendored htmx file, with the stylesheet, script and htmx
//! compiled into the binary. Every form works without JavaScript.
//!
//! This module owns what every screen shares: the router, the layout data,
//! flash messages, error pages, static assets, and the two layers every UI
//! response goes through: security headers (a CSP without inline script,
//! `X-Frame-Options: DENY`) and the cross-site request check that refuses
//! state-changing requests from other origins. Sign-in lives in
//! [`session`]; each screen in its own module, calling the same storage and
//! domain functions as the JSON API.

pub mod imports;
pub mod keys;
pub mod leads;
pub mod plugins;
pub mod recovery;
pub mod session;
pub mod stages;
pub mod webhooks;

use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::domain::InvalidInput;
use crate::domain::secrets::sha256_hex;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::storage::StoreError;
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

/// The policy every UI page is served with: scripts, styles and requests
/// only from this origin, nothing inline, no framing, forms only to here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

const FLASH_COOKIE: &str = "switchyard_flash";

/// The UI's routes, with their layers. Mounted beside the API.
pub fn router(state: AppState) -> Router<AppState> {
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
        .layer(middleware::from_fn_with_state(state, refuse_cross_site))
        .layer(middleware::from_fn(ui_headers))
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
pub struct Layout {
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
    pub fn new(
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
    pub fn signed_out(flash: Flash, title: impl Into<String>) -> Self {
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

/// The message a redirect left for the next page ("Stage added."), read
/// from a short-lived cookie; [`ui_headers`] clears it once shown. A
/// warning ("the receiver answered HTTP 500") is shown as an alert.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    pub message: Option<String>,
    pub warning: bool,
}

impl Flash {
    /// A message that reports success.
    pub fn info(message: impl Into<String>) -> Self {
        Flash {
            message: Some(message.into()),
            warning: false,
        }
    }
}

/// Marks a warning in the flash cookie; the base64url alphabet has no `.`,
/// so the mark cannot be the start of a message.
const WARNING_MARK: &str = "w.";

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(read_flash(&parts.headers))
    }
}

fn read_flash(headers: &HeaderMap) -> Flash {
    let Some(stored) = cookie(headers, FLASH_COOKIE) else {
        return Flash::default();
    };
    let (encoded, warning) = match stored.strip_prefix(WARNING_MARK) {
        Some(encoded) => (encoded, true),
        None => (stored, false),
    };
    let message = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty());
    Flash { message, warning }
}

/// A `303 See Other` to `to` that leaves `message` for the next page.
pub fn redirect_with_flash(to: &str, message: &str) -> Response {
    redirect_leaving(to, message, false)
}

/// A `303 See Other` to `to` that leaves `message` for the next page as a
/// warning: something was done, but it did not go well.
pub fn redirect_with_warning(to: &str, message: &str) -> Response {
    redirect_leaving(to, message, true)
}

fn redirect_leaving(to: &str, message: &str, warning: bool) -> Response {
    let cookie = format!(
        "{FLASH_COOKIE}={}{}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60",
        if warning { WARNING_MARK } else { "" },
        URL_SAFE_NO_PAD.encode(message.as_bytes())
    );
    let mut response = Redirect::to(to).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
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
pub fn render(status: StatusCode, page: &impl Template) -> Response {
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
pub fn page(page: &impl Template) -> Response {
    render(StatusCode::OK, page)
}

/// A time as admins read it: `2026-11-23 11:32:06 UTC`.
pub fn display_time(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|time| time.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// A failed UI request: the sign-in form for a missing session, otherwise
/// an error page with the message an admin can act on.
#[derive(Debug)]
pub enum UiError {
    SignIn,
    Page { status: StatusCode, message: String },
}

impl UiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        UiError::Page {
            status,
            message: message.into(),
        }
    }

    /// The status and message, for a page that shows them in place.
    pub fn status_and_message(self) -> (StatusCode, String) {
        match self {
            UiError::SignIn => (StatusCode::UNAUTHORIZED, "Sign in again.".into()),
            UiError::Page { status, message } => (status, message),
        }
    }
}

pub type UiResult<T = Response> = Result<T, UiError>;

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
pub struct UiForm<T>(pub T);

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
pub struct ConfirmPage {
    pub layout: Layout,
    pub heading: String,
    pub message: String,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
}

/// Adds the headers every UI response carries, and clears a flash message
/// once a page has shown it.
async fn ui_headers(request: Request, next: Next) -> Response {
    let had_flash = cookie(request.headers(), FLASH_COOKIE).is_some();
    let is_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let clear_flash = had_flash && !response.status().is_redirection();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        // Pages show secrets (a new token) and private data: keep them out
        // of every cache, the back-forward cache's disk copy included.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if clear_flash {
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static(
                "switchyard_flash=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
            ),
        );
    }
    response
}

/// Refuses a state-changing request a browser sent from another site: its
/// `Sec-Fetch-Site` must say `same-origin` (or `none`: typed by the user),
/// or, from browsers that do not send it, its `Origin` must be this server.
/// A request carrying neither is refused too: every browser sends one of
/// them with a form post, and the UI has no other callers (tools use the
/// API with a key).
async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match cross_site_verdict(request.headers(), &state.public_url) {
        Ok(()) => next.run(request).await,
        Err(reason) => UiError::new(StatusCode::FORBIDDEN, reason).into_response(),
    }
}

/// Why a state-changing request is refused as cross-site, if it is.
pub fn cross_site_verdict(headers: &HeaderMap, public_url: &str) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            other => Err(format!(
                "This form was sent from another site (Sec-Fetch-Site: {other}), so it was refused. \
                 Open Switchyard's own page and submit the form there."
            )),
        };
    }
    let Some(origin) = header("origin") else {
        return Err(
            "This request carried neither Sec-Fetch-Site nor Origin, so Switchyard cannot tell \
             that it came from its own page; it was refused. Use a current browser, or the API \
             with an API key."
                .into(),
        );
    };
    let host = header("host").unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    if origin == public_url.trim_end_matches('/') || (!host.is_empty() && origin_host == Some(host))
    {
        Ok(())
    } else {
        Err(format!(
            "This form was sent from another site ({origin}), so it was refused. \
             Open Switchyard's own page and submit the form there."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass_and_cross_site_posts_are_refused() {
        let public = "http://127.0.0.1:8080";
        assert!(cross_site_verdict(&headers(&[("sec-fetch-site", "same-origin")]), public).is_ok());
        assert!(cross_site_verdict(&headers(&[("sec-fetch-site", "none")]), public).is_ok());
        assert!(cross_site_verdict(&headers(&[("sec-fetch-site", "cross-site")]), public).is_err());
        assert!(cross_site_verdict(&headers(&[("sec-fetch-site", "same-site")]), public).is_err());
        assert!(
            cross_site_verdict(
                &headers(&[
                    ("origin", "http://127.0.0.1:8080"),
                    ("host", "127.0.0.1:8080")
                ]),
                "https://switchyard.example.com"
            )
            .is_ok()
        );
        assert!(
            cross_site_verdict(
                &headers(&[
                    ("origin", "https://switchyard.example.com"),
                    ("host", "10.0.0.1")
                ]),
                "https://switchyard.example.com"
            )
            .is_ok()
        );
        assert!(
            cross_site_verdict(
                &headers(&[
                    ("origin", "http://evil.example"),
                    ("host", "127.0.0.1:8080")
                ]),
                public
            )
            .is_err()
        );
        assert!(cross_site_verdict(&headers(&[("origin", "null")]), public).is_err());
        assert!(cross_site_verdict(&HeaderMap::new(), public).is_err());
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let map = headers(&[("cookie", "a=1; switchyard_flash=abc; switchyard_flashy=x")]);
        assert_eq!(cookie(&map, "switchyard_flash"), Some("abc"));
        assert_eq!(cookie(&map, "a"), Some("1"));
        assert_eq!(cookie(&map, "b"), None);
    }

    #[test]
    fn flash_messages_survive_the_cookie_round_trip() {
        let response = redirect_with_flash("/stages", "Stage “Inquiry” added; <b>");
        let set = response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap_or_default();
        let value = set
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let mut map = HeaderMap::new();
        map.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{FLASH_COOKIE}={value}")).expect("header"),
        );
        let flash = read_flash(&map);
        assert_eq!(flash.message.as_deref(), Some("Stage “Inquiry” added; <b>"));
        assert!(!flash.warning);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    }

    #[test]
    fn warnings_come_back_as_warnings() {
        let response = redirect_with_warning("/webhooks", "HTTP 500");
        let set = response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap_or_default();
        let pair = set.split(';').next().unwrap_or_default();
        let mut map = HeaderMap::new();
        map.insert(header::COOKIE, HeaderValue::from_str(pair).expect("header"));
        let flash = read_flash(&map);
        assert_eq!(flash.message.as_deref(), Some("HTTP 500"));
        assert!(flash.warning);
    }
}
