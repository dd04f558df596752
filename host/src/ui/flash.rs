//! Flash messages: what a redirect leaves for the next page ("Stage
//! added."), in a short-lived `HttpOnly` cookie that the next page shows
//! and [`super::security`]'s layer clears. A warning (a test send the
//! receiver refused) is shown as an alert instead of a success.

use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cookie;

pub(super) const FLASH_COOKIE: &str = "switchyard_flash";

/// The message a redirect left for the next page ("Stage added."), read
/// from a short-lived cookie; the security layer clears it once shown. A
/// warning ("the receiver answered HTTP 500") is shown as an alert.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flash {
    pub message: Option<String>,
    pub warning: bool,
}

impl Flash {
    /// A message that reports success.
    pub(crate) fn info(message: impl Into<String>) -> Self {
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
pub(crate) fn redirect_with_flash(to: &str, message: &str) -> Response {
    redirect_leaving(to, message, false)
}

/// A `303 See Other` to `to` that leaves `message` for the next page as a
/// warning: something was done, but it did not go well.
pub(crate) fn redirect_with_warning(to: &str, message: &str) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

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
