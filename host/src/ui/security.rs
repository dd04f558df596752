//! The layers every UI response goes through: security headers (a CSP
//! without inline script, `X-Frame-Options: DENY`, no caching of pages)
//! and the cross-site request check that refuses state-changing requests
//! from other sites.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::flash::FLASH_COOKIE;
use super::{UiError, cookie};
use crate::http::AppState;

/// The policy every UI page is served with: scripts, styles and requests
/// only from this origin, nothing inline, no framing, forms only to here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Adds the headers every UI response carries, and clears a flash message
/// once a page has shown it.
pub(super) async fn ui_headers(request: Request, next: Next) -> Response {
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
pub(super) async fn refuse_cross_site(
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
pub(crate) fn cross_site_verdict(headers: &HeaderMap, public_url: &str) -> Result<(), String> {
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
}
