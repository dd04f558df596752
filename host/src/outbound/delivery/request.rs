//! The request one attempt sends, and what the delivery log keeps of it, as
//! pure functions: the signed headers ([`signed_headers`]), a GET's query
//! ([`with_query`]), the credentials redacted for the log
//! ([`redacted_for_log`]), the answer as logged ([`log_response`]) and the
//! trimmed log of a webhook with lightweight logs ([`lightweight`]).
//!
//! To change which headers a delivery carries or how it is signed, edit
//! [`signed_headers`] (and `outbound::signing` for the signatures
//! themselves).

use std::collections::BTreeMap;

use serde_json::json;

use crate::domain::webhook::{REDACTED, WebhookAuth};
use crate::outbound::client::{OutboundResponse, SendError};
use crate::outbound::payload::BuiltPayload;
use crate::outbound::signing;
use crate::storage::deliveries::AttemptLog;
use crate::storage::webhooks::Webhook;

/// The compatibility header that carries the signing secret itself.
const SECRET_HEADER: &str = "x-webhook-secret";

/// What a webhook adds to every request besides its payload.
#[derive(Debug, Clone, Copy)]
pub(super) struct Credentials<'a> {
    pub(super) auth: &'a WebhookAuth,
    pub(super) signing_secret: &'a str,
    /// Send the secret itself as `X-Webhook-Secret`.
    pub(super) send_secret_header: bool,
    /// Send `X-Hmac-Signature`, the hex HMAC of the body alone.
    pub(super) send_hmac_header: bool,
}

impl<'a> Credentials<'a> {
    pub(super) fn of(webhook: &'a Webhook) -> Self {
        Self {
            auth: &webhook.settings.auth,
            signing_secret: &webhook.signing_secret,
            send_secret_header: webhook.settings.send_secret_header,
            send_hmac_header: webhook.settings.send_hmac_header,
        }
    }
}

/// The headers of one request, in the order they are sent: the payload's
/// content type (when there is a body) and its own headers, the webhook's
/// auth, the Standard Webhooks `webhook-id`, `webhook-timestamp` and
/// `webhook-signature`, then the optional compatibility headers.
/// `timestamp` is in seconds; `body` is `None` for a GET, whose signatures
/// cover an empty body.
pub(super) fn signed_headers(
    credentials: &Credentials<'_>,
    message_id: &str,
    timestamp: i64,
    payload: &BuiltPayload,
    body: Option<&[u8]>,
) -> Vec<(String, String)> {
    let secret = credentials.signing_secret;
    let signed_body = body.unwrap_or_default();
    let mut headers: Vec<(String, String)> = Vec::new();
    if body.is_some() {
        headers.push(("content-type".into(), payload.content_type.clone()));
    }
    headers.extend(payload.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    headers.extend(credentials.auth.headers());
    headers.push(("webhook-id".into(), message_id.to_owned()));
    headers.push(("webhook-timestamp".into(), timestamp.to_string()));
    headers.push((
        "webhook-signature".into(),
        signing::standard_signature(secret, message_id, timestamp, signed_body),
    ));
    if credentials.send_secret_header {
        headers.push((SECRET_HEADER.into(), secret.to_owned()));
    }
    if credentials.send_hmac_header {
        headers.push((
            "x-hmac-signature".into(),
            signing::body_hmac_hex(secret, signed_body),
        ));
    }
    headers
}

/// The request's headers as the log keeps them: a JSON object (by name;
/// a repeated name keeps its last value) with the auth's secret headers and
/// `x-webhook-secret` replaced by [`REDACTED`].
pub(super) fn redacted_for_log(headers: &[(String, String)], auth: &WebhookAuth) -> String {
    let mut secret_headers = auth.secret_header_names();
    secret_headers.push(SECRET_HEADER.into());
    let logged: BTreeMap<&str, &str> = headers
        .iter()
        .map(|(name, value)| {
            let shown = if secret_headers.contains(name) {
                REDACTED
            } else {
                value.as_str()
            };
            (name.as_str(), shown)
        })
        .collect();
    json!(logged).to_string()
}

/// Fills the log with the receiver's answer, or the error. An answer
/// outside 2xx is logged as an error too.
pub(super) fn log_response(log: &mut AttemptLog, response: &Result<OutboundResponse, SendError>) {
    match response {
        Ok(answer) => {
            let headers: BTreeMap<&str, &str> = answer
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect();
            log.response_status = Some(i64::from(answer.status));
            log.response_headers = Some(storable(&json!(headers).to_string()));
            log.response_body = Some(storable(&String::from_utf8_lossy(&answer.body)));
            if !(200..300).contains(&answer.status) {
                log.error = Some(format!("the receiver answered {}", answer.status));
            }
        }
        Err(error) => log.error = Some(storable(&error.to_string())),
    }
}

/// What a webhook with lightweight logs keeps of an attempt: its status,
/// duration and error, not the request or the response.
pub(super) fn lightweight(log: AttemptLog) -> AttemptLog {
    AttemptLog {
        response_status: log.response_status,
        duration_us: log.duration_us,
        error: log.error,
        ..AttemptLog::default()
    }
}

/// Text the database can store: PostgreSQL refuses NUL characters, and a
/// receiver may answer with anything.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// `url` with `pairs` appended to its query string.
pub(super) fn with_query(url: &str, pairs: &[(&str, String)]) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            parsed
                .query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            parsed.into()
        }
        // The client refuses it with a clear error.
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn payload(content_type: &str, headers: &[(&str, &str)]) -> BuiltPayload {
        BuiltPayload {
            body: r#"{"a":1}"#.into(),
            content_type: content_type.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn names(headers: &[(String, String)]) -> Vec<&str> {
        headers.iter().map(|(name, _)| name.as_str()).collect()
    }

    fn value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn api_key_auth() -> WebhookAuth {
        WebhookAuth::Headers {
            headers: [("X-Api-Key".to_string(), "k3y".to_string())].into(),
        }
    }

    #[test]
    fn signed_headers_follow_the_settings() {
        let bearer = WebhookAuth::Bearer {
            token: "t0k".into(),
        };
        let api_key = api_key_auth();
        let none = WebhookAuth::None;
        let body: &[u8] = br#"{"a":1}"#;
        /// Auth, secret header, hmac header, body, payload headers, expected names.
        type Case<'a> = (
            &'a WebhookAuth,
            bool,
            bool,
            Option<&'a [u8]>,
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
        );
        let cases: [Case<'_>; 5] = [
            (
                &none,
                false,
                false,
                Some(body),
                &[],
                &[
                    "content-type",
                    "webhook-id",
                    "webhook-timestamp",
                    "webhook-signature",
                ],
            ),
            (
                &none,
                false,
                false,
                None,
                &[],
                &["webhook-id", "webhook-timestamp", "webhook-signature"],
            ),
            (
                &bearer,
                true,
                true,
                Some(body),
                &[],
                &[
                    "content-type",
                    "authorization",
                    "webhook-id",
                    "webhook-timestamp",
                    "webhook-signature",
                    "x-webhook-secret",
                    "x-hmac-signature",
                ],
            ),
            (
                &api_key,
                false,
                true,
                None,
                &[],
                &[
                    "x-api-key",
                    "webhook-id",
                    "webhook-timestamp",
                    "webhook-signature",
                    "x-hmac-signature",
                ],
            ),
            (
                &none,
                true,
                false,
                Some(body),
                &[("x-trace", "1")],
                &[
                    "content-type",
                    "x-trace",
                    "webhook-id",
                    "webhook-timestamp",
                    "webhook-signature",
                    "x-webhook-secret",
                ],
            ),
        ];
        for (auth, secret_header, hmac_header, body, extra, expected) in cases {
            let credentials = Credentials {
                auth,
                signing_secret: SECRET,
                send_secret_header: secret_header,
                send_hmac_header: hmac_header,
            };
            let headers = signed_headers(
                &credentials,
                "msg_1",
                1_614_265_330,
                &payload("application/json", extra),
                body,
            );
            assert_eq!(names(&headers), expected, "{auth:?} {body:?}");
            assert_eq!(value(&headers, "webhook-id"), Some("msg_1"));
            assert_eq!(value(&headers, "webhook-timestamp"), Some("1614265330"));
            let signed = body.unwrap_or_default();
            assert_eq!(
                value(&headers, "webhook-signature"),
                Some(signing::standard_signature(SECRET, "msg_1", 1_614_265_330, signed).as_str())
            );
            if hmac_header {
                assert_eq!(
                    value(&headers, "x-hmac-signature"),
                    Some(signing::body_hmac_hex(SECRET, signed).as_str())
                );
            }
            if secret_header {
                assert_eq!(value(&headers, "x-webhook-secret"), Some(SECRET));
            }
        }
    }

    /// Checked by an independent implementation of the specification.
    #[test]
    fn the_signature_verifies_with_the_standardwebhooks_crate() {
        let timestamp = crate::domain::time::now_micros() / 1_000_000;
        let body = br#"{"event":"lead.created"}"#;
        let credentials = Credentials {
            auth: &WebhookAuth::None,
            signing_secret: SECRET,
            send_secret_header: false,
            send_hmac_header: false,
        };
        let headers = signed_headers(
            &credentials,
            "msg_2",
            timestamp,
            &payload("application/json", &[]),
            Some(body),
        );
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in &headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        standardwebhooks::Webhook::new(SECRET)
            .expect("secret")
            .verify(body, &map)
            .expect("verifies");
    }

    #[test]
    fn the_log_redacts_credentials_and_the_secret_header() {
        let basic = WebhookAuth::Basic {
            username: "u".into(),
            password: "p".into(),
        };
        let api_key = api_key_auth();
        let header = |name: &str, value: &str| (name.to_string(), value.to_string());
        // (auth, headers sent, expected log)
        let cases = [
            (
                WebhookAuth::None,
                vec![
                    header("content-type", "application/json"),
                    header("webhook-signature", "v1,abc"),
                ],
                json!({"content-type": "application/json", "webhook-signature": "v1,abc"}),
            ),
            (
                basic,
                vec![
                    header("authorization", "Basic dTpw"),
                    header("webhook-id", "msg_1"),
                ],
                json!({"authorization": REDACTED, "webhook-id": "msg_1"}),
            ),
            (
                api_key,
                vec![header("x-api-key", "k3y"), header("x-other", "shown")],
                json!({"x-api-key": REDACTED, "x-other": "shown"}),
            ),
            (
                // The secret header is redacted whatever the auth.
                WebhookAuth::None,
                vec![
                    header("x-webhook-secret", SECRET),
                    header("x-hmac-signature", "ff"),
                ],
                json!({"x-webhook-secret": REDACTED, "x-hmac-signature": "ff"}),
            ),
            (
                // Without bearer auth, an `authorization` header is the payload's own.
                WebhookAuth::None,
                vec![header("authorization", "mine")],
                json!({"authorization": "mine"}),
            ),
        ];
        for (auth, headers, expected) in cases {
            let logged: serde_json::Value =
                serde_json::from_str(&redacted_for_log(&headers, &auth)).expect("JSON");
            assert_eq!(logged, expected, "{auth:?}");
        }
    }

    fn answer(status: u16, body: &[u8]) -> OutboundResponse {
        OutboundResponse {
            status,
            headers: vec![("x-h".into(), "v".into())],
            body: body.to_vec(),
            body_truncated: false,
            duration: Duration::ZERO,
            retry_after: None,
        }
    }

    #[test]
    fn the_log_keeps_the_answer_and_names_failures() {
        /// The answer, then the status, body and error logged.
        type Case = (
            Result<OutboundResponse, SendError>,
            Option<i64>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: [Case; 5] = [
            (Ok(answer(200, b"ok")), Some(200), Some("ok"), None),
            (Ok(answer(204, b"")), Some(204), Some(""), None),
            (
                Ok(answer(500, b"oops")),
                Some(500),
                Some("oops"),
                Some("the receiver answered 500"),
            ),
            (
                Ok(answer(200, b"nul\0byte")),
                Some(200),
                Some("nul\u{FFFD}byte"),
                None,
            ),
            (
                Err(SendError::Connect("refused".into())),
                None,
                None,
                Some("could not connect: refused"),
            ),
        ];
        for (response, status, body, error) in cases {
            let mut log = AttemptLog::default();
            log_response(&mut log, &response);
            assert_eq!(log.response_status, status, "{response:?}");
            assert_eq!(log.response_body.as_deref(), body, "{response:?}");
            assert_eq!(log.error.as_deref(), error, "{response:?}");
            if response.is_ok() {
                assert_eq!(log.response_headers.as_deref(), Some(r#"{"x-h":"v"}"#));
            }
        }
    }

    #[test]
    fn lightweight_logs_keep_status_duration_and_error_only() {
        let full = AttemptLog {
            url: Some("https://example.com/".into()),
            method: Some("POST".into()),
            request_headers: Some("{}".into()),
            request_body: Some("{}".into()),
            response_status: Some(503),
            response_headers: Some("{}".into()),
            response_body: Some("busy".into()),
            duration_us: 42,
            error: Some("the receiver answered 503".into()),
        };
        let kept = lightweight(full);
        assert_eq!(kept.response_status, Some(503));
        assert_eq!(kept.duration_us, 42);
        assert_eq!(kept.error.as_deref(), Some("the receiver answered 503"));
        assert_eq!(
            (
                kept.url,
                kept.method,
                kept.request_headers,
                kept.request_body
            ),
            (None, None, None, None)
        );
        assert_eq!((kept.response_headers, kept.response_body), (None, None));
    }

    #[test]
    fn a_get_carries_the_envelope_in_the_query() {
        let pairs = [
            ("type", "lead.created".to_string()),
            ("id", "msg 1".to_string()),
        ];
        let cases = [
            (
                "https://example.com/hook",
                "https://example.com/hook?type=lead.created&id=msg+1",
            ),
            (
                "https://example.com/hook?k=v",
                "https://example.com/hook?k=v&type=lead.created&id=msg+1",
            ),
            // Unparsable: left for the client to refuse.
            ("not a url", "not a url"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_query(url, &pairs), expected);
        }
    }
}
