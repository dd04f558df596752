//! The HTTP sender for outbound webhook deliveries, and the SSRF guard around
//! it.
//!
//! - [`WebhookClient`] (here): one pooled `reqwest` client per process that
//!   applies the policy at every point a destination can sneak in: the URL
//!   as saved ([`WebhookClient::check_url`]), IP literals in the URL being
//!   sent, every address DNS returns (checked in the resolver, so the
//!   addresses judged are exactly the ones connected to and DNS rebinding
//!   cannot slip past), and every redirect; it reads the answer, capped,
//!   with its `Retry-After`.
//! - `policy`: [`DestinationPolicy`], which IP addresses a webhook may
//!   reach. Anything that is not a public unicast address (loopback,
//!   private, link-local, carrier-grade NAT, documentation, multicast, ...)
//!   is refused unless an operator allowed its range with
//!   `--outbound-allow-cidr`; and the resolver that applies it.
//! - `error`: [`SendError`], why a delivery attempt failed, in words an
//!   admin can act on, with a stable [`SendError::kind`] for the delivery
//!   log.
//!
//! Retries, signing and payloads live elsewhere; this sends one request.

mod error;
mod policy;

pub(crate) use error::SendError;
pub(crate) use policy::{DestinationPolicy, check_target};

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url, redirect};

use crate::domain::webhook::WebhookMethod;
use error::map_reqwest_error;
use policy::PolicyResolver;

/// How much of a receiver's response body is kept for the delivery log.
pub(crate) const RESPONSE_BODY_CAP: usize = 64 * 1024;

/// How many redirects one delivery follows before giving up. Receivers
/// rarely redirect at all; a long chain is a misconfiguration or a loop.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// After [`RESPONSE_BODY_CAP`], the rest of a body is read and thrown away so
/// the connection can go back to the pool, up to this much. Beyond it,
/// closing the connection is cheaper than downloading what nobody keeps.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// Sent with every delivery so receivers can recognise (and allow-list) us.
const USER_AGENT: &str = concat!("Switchyard-Webhooks/", env!("CARGO_PKG_VERSION"));

/// Idle connections are kept this long: receivers are hit repeatedly, and a
/// new TCP (and TLS) handshake per delivery would cap throughput.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The client could not be built (in practice: TLS set-up failed).
#[derive(Debug, thiserror::Error)]
#[error("could not build the outbound HTTP client: {0}")]
pub(crate) struct BuildError(#[source] reqwest::Error);

/// One request to a webhook receiver.
#[derive(Debug, Clone)]
pub(crate) struct OutboundRequest {
    pub method: Method,
    pub url: String,
    /// Sent as given, in order; repeated names are all sent.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// For the whole exchange: resolving, connecting, redirects, and reading
    /// the response body.
    pub timeout: Duration,
}

impl From<WebhookMethod> for Method {
    fn from(method: WebhookMethod) -> Self {
        match method {
            WebhookMethod::Post => Method::POST,
            WebhookMethod::Put => Method::PUT,
            WebhookMethod::Patch => Method::PATCH,
            WebhookMethod::Delete => Method::DELETE,
            WebhookMethod::Get => Method::GET,
        }
    }
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutboundResponse {
    pub status: u16,
    /// Non-UTF-8 header values are decoded lossily; they are for the log.
    pub headers: Vec<(String, String)>,
    /// At most [`RESPONSE_BODY_CAP`] bytes.
    pub body: Vec<u8>,
    /// The receiver sent more than [`RESPONSE_BODY_CAP`] bytes.
    pub body_truncated: bool,
    /// From sending the request to the end of the body.
    pub duration: Duration,
    /// The receiver's `Retry-After`, as a delay from now; `None` when absent
    /// or unparsable.
    pub retry_after: Option<Duration>,
}

/// Sends webhook deliveries. Build one per process and clone it freely: the
/// clones share one connection pool.
#[derive(Clone)]
pub(crate) struct WebhookClient {
    http: reqwest::Client,
    policy: Arc<DestinationPolicy>,
}

impl fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookClient")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl WebhookClient {
    pub(crate) fn new(policy: DestinationPolicy) -> Result<Self, BuildError> {
        let policy = Arc::new(policy);
        let redirect_policy = {
            let policy = Arc::clone(&policy);
            redirect::Policy::custom(move |attempt| {
                // `previous` starts with the original URL, so it holds
                // MAX_REDIRECTS + 1 entries once MAX_REDIRECTS were followed.
                if attempt.previous().len() > MAX_REDIRECTS {
                    return attempt.error(SendError::TooManyRedirects);
                }
                // DNS names are judged by the resolver when connecting; IP
                // literals never reach it, so they are judged here.
                if let Err(error) = check_target(&policy, attempt.url()) {
                    return attempt.error(error);
                }
                // The request carries the signature, the auth and maybe the
                // secret itself: it never follows a receiver elsewhere.
                let target = attempt.url().clone();
                match attempt.previous().first() {
                    Some(original) if original.origin() != target.origin() => {
                        attempt.error(SendError::RedirectRefused(target.to_string()))
                    }
                    _ => attempt.follow(),
                }
            })
        };
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .dns_resolver(Arc::new(PolicyResolver {
                policy: Arc::clone(&policy),
            }))
            .redirect(redirect_policy)
            // A proxy would resolve names itself, out of the policy's reach.
            .no_proxy()
            .user_agent(USER_AGENT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(BuildError)?;
        Ok(Self { http, policy })
    }

    /// Checks a webhook URL without sending anything or resolving DNS: it
    /// parses, is http or https, has a host, and that host is not a refused
    /// IP literal. For refusing bad URLs when a webhook is saved.
    pub(crate) fn check_url(&self, url: &str) -> Result<Url, SendError> {
        let parsed = Url::parse(url)
            .map_err(|error| SendError::InvalidUrl(format!("`{url}` is not a URL: {error}")))?;
        check_target(&self.policy, &parsed)?;
        Ok(parsed)
    }

    /// Sends one request and reads the response, within `request.timeout`.
    pub(crate) async fn send(
        &self,
        request: OutboundRequest,
    ) -> Result<OutboundResponse, SendError> {
        let url = self.check_url(&request.url)?;
        let headers = header_map(&request.headers)?;
        let timeout = request.timeout;
        let started = Instant::now();
        tracing::debug!(method = %request.method, url = %url, "sending webhook request");

        let mut builder = self.http.request(request.method, url).headers(headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let exchange = async {
            let response = builder.send().await?;
            read_response(response).await
        };
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(mut response)) => {
                response.duration = started.elapsed();
                Ok(response)
            }
            Ok(Err(error)) => Err(map_reqwest_error(&error, timeout)),
            Err(_elapsed) => Err(SendError::Timeout(timeout)),
        };
        match &result {
            Ok(response) => tracing::debug!(
                status = response.status,
                duration_ms = response.duration.as_millis() as u64,
                "webhook response"
            ),
            Err(error) => tracing::debug!(kind = error.kind(), %error, "webhook request failed"),
        }
        result
    }
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, SendError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SendError::Other(format!("`{name}` is not a valid HTTP header name")))?;
        // The value is not quoted back: it may be a secret.
        let header_value = HeaderValue::from_str(value).map_err(|_| {
            SendError::Other(format!(
                "the value of header `{name}` is not valid in HTTP (control characters or non-ASCII text)"
            ))
        })?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

async fn read_response(
    mut response: reqwest::Response,
) -> Result<OutboundResponse, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, Utc::now()));

    let mut body = Vec::new();
    let mut body_truncated = false;
    let mut drained = 0usize;
    while let Some(chunk) = response.chunk().await? {
        if body_truncated {
            drained += chunk.len();
            if drained > DRAIN_LIMIT {
                // Dropping the response closes the connection.
                break;
            }
            continue;
        }
        let room = RESPONSE_BODY_CAP - body.len();
        if chunk.len() <= room {
            body.extend_from_slice(&chunk);
        } else {
            body.extend_from_slice(&chunk[..room]);
            body_truncated = true;
            drained += chunk.len() - room;
        }
    }
    Ok(OutboundResponse {
        status,
        headers,
        body,
        body_truncated,
        duration: Duration::ZERO,
        retry_after,
    })
}

/// Parses `Retry-After`: delta-seconds, or an HTTP date taken relative to
/// `now` (a date in the past means "now").
pub(crate) fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    // The three date forms HTTP allows: IMF-fixdate (what senders must
    // send), and the obsolete RFC 850 and asctime forms (which receivers
    // must still accept).
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::from(now))
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests;
