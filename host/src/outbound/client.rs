//! The HTTP sender for outbound webhook deliveries, and the SSRF guard around
//! it.
//!
//! This module owns:
//! - [`DestinationPolicy`]: which IP addresses a webhook may reach. Anything
//!   that is not a public unicast address (loopback, private, link-local,
//!   carrier-grade NAT, documentation, multicast, ...) is refused unless an
//!   operator allowed its range with `--outbound-allow-cidr`.
//! - [`WebhookClient`]: one pooled `reqwest` client per process that applies
//!   the policy at every point a destination can sneak in: the URL as saved
//!   ([`WebhookClient::check_url`]), IP literals in the URL being sent, every
//!   address DNS returns (checked in the resolver, so the addresses judged are
//!   exactly the ones connected to and DNS rebinding cannot slip past), and
//!   every redirect.
//! - [`SendError`]: why a delivery attempt failed, in words an admin can act
//!   on, with a stable [`SendError::kind`] for the delivery log.
//!
//! Retries, signing and payloads live elsewhere; this sends one request.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url, redirect};

use crate::domain::webhook::WebhookMethod;

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

/// Which destinations outbound webhooks may reach.
///
/// Public unicast addresses are always allowed. Every other address is
/// refused unless it falls inside one of the `allowed` ranges, which is how
/// tests (and deployments that post to an internal service on purpose) reach
/// loopback or private receivers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DestinationPolicy {
    allowed: Vec<IpNet>,
}

/// A `--outbound-allow-cidr` entry that is neither a CIDR nor an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a CIDR range or IP address (expected e.g. `10.0.0.0/8`, `::1/128` or `127.0.0.1`)"
)]
pub(crate) struct InvalidCidr {
    pub input: String,
}

impl DestinationPolicy {
    /// A policy that additionally allows every address inside `allowed`.
    /// An empty list allows public addresses only.
    pub(crate) fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Parses a comma-separated list such as `127.0.0.0/8,::1/128`, the form
    /// of the `--outbound-allow-cidr` flag. A bare address means just that
    /// address; blank entries are skipped so `""` is the empty list.
    pub(crate) fn parse_list(list: &str) -> Result<Self, InvalidCidr> {
        let allowed = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(parse_cidr)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(allowed))
    }

    /// Whether a webhook may connect to `ip`.
    pub(crate) fn permits(&self, ip: IpAddr) -> bool {
        if self.allowed.iter().any(|net| net.contains(&ip)) {
            return true;
        }
        match classify(ip) {
            Class::Public => true,
            Class::Special(_) => false,
            // The packet really goes to the embedded IPv4 address, so that is
            // the address to judge (allow-list included).
            Class::Embedded(_, v4) => self.permits(IpAddr::V4(v4)),
        }
    }
}

impl FromStr for DestinationPolicy {
    type Err = InvalidCidr;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        Self::parse_list(list)
    }
}

fn parse_cidr(entry: &str) -> Result<IpNet, InvalidCidr> {
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| InvalidCidr {
            input: entry.to_owned(),
        })
}

/// What kind of address an IP is, as far as SSRF is concerned.
enum Class {
    /// A public unicast address.
    Public,
    /// Not reachable on the public internet (or not unicast); the text names
    /// the class and its range for error messages.
    Special(&'static str),
    /// An IPv6 address that carries an IPv4 address the traffic ends up at.
    Embedded(&'static str, Ipv4Addr),
}

fn classify(ip: IpAddr) -> Class {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4).map_or(Class::Public, Class::Special),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const DOCUMENTATION: &str =
        "a documentation address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)";
    let class = match ip.octets() {
        [255, 255, 255, 255] => "the broadcast address (255.255.255.255)",
        [0, 0, 0, 0] => "the unspecified address (0.0.0.0)",
        // Linux connects 0.x.y.z to the local host.
        [0, ..] => "a \"this network\" address (0.0.0.0/8)",
        [10, ..] => "a private address (10.0.0.0/8)",
        [100, b, ..] if b & 0xc0 == 64 => "a carrier-grade NAT address (100.64.0.0/10)",
        [127, ..] => "a loopback address (127.0.0.0/8)",
        [169, 254, ..] => "a link-local address (169.254.0.0/16)",
        [172, b, ..] if b & 0xf0 == 16 => "a private address (172.16.0.0/12)",
        [192, 0, 0, _] => "an IETF protocol address (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => DOCUMENTATION,
        [192, 168, ..] => "a private address (192.168.0.0/16)",
        [198, 18 | 19, ..] => "a benchmarking address (198.18.0.0/15)",
        [224..=239, ..] => "a multicast address (224.0.0.0/4)",
        [240..=255, ..] => "a reserved address (240.0.0.0/4)",
        _ => return None,
    };
    Some(class)
}

fn classify_v6(ip: Ipv6Addr) -> Class {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Class::Embedded("an IPv4-mapped address", v4);
    }
    let segments = ip.segments();
    let low_v4 = || Ipv4Addr::from(u128::from(ip) as u32);
    match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => Class::Special("the unspecified address (::)"),
        [0, 0, 0, 0, 0, 0, 0, 1] => Class::Special("the loopback address (::1)"),
        // Deprecated IPv4-compatible addresses (::a.b.c.d).
        [0, 0, 0, 0, 0, 0, _, _] => Class::Embedded("an IPv4-compatible address", low_v4()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Class::Embedded("a NAT64 address", low_v4()),
        [0x64, 0xff9b, 1, ..] => Class::Special("a local-use NAT64 address (64:ff9b:1::/48)"),
        [0x100, 0, 0, 0, ..] => Class::Special("a discard-only address (100::/64)"),
        [0x2001, 0xdb8, ..] => Class::Special("a documentation address (2001:db8::/32)"),
        [0x3fff, b, ..] if b & 0xf000 == 0 => Class::Special("a documentation address (3fff::/20)"),
        [0x2002, high, low, ..] => Class::Embedded(
            "a 6to4 address",
            Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)),
        ),
        [a, ..] if a & 0xfe00 == 0xfc00 => Class::Special("a unique local address (fc00::/7)"),
        [a, ..] if a & 0xffc0 == 0xfe80 => Class::Special("a link-local address (fe80::/10)"),
        [a, ..] if a & 0xffc0 == 0xfec0 => Class::Special("a site-local address (fec0::/10)"),
        [a, ..] if a & 0xff00 == 0xff00 => Class::Special("a multicast address (ff00::/8)"),
        _ => Class::Public,
    }
}

/// Names the class of a refused address for an error message, e.g.
/// "a private address (10.0.0.0/8)".
fn describe(ip: IpAddr) -> String {
    match classify(ip) {
        Class::Special(class) => class.to_owned(),
        Class::Embedded(form, v4) => format!("{form} of {v4}, {}", describe(IpAddr::V4(v4))),
        // Only reachable if a caller builds the error by hand.
        Class::Public => "outside the allowed ranges".to_owned(),
    }
}

/// Why one delivery attempt failed. `Display` is written for the admin
/// reading the delivery log; [`SendError::kind`] is the stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// The URL cannot be used at all (unparsable, not http or https, no
    /// host), including a redirect to such a URL.
    #[error("invalid webhook URL: {0}")]
    InvalidUrl(String),
    /// The destination is not a public address and no configured range
    /// allows it.
    #[error("{}", refused_message(host, *address))]
    DestinationRefused { host: String, address: IpAddr },
    /// The host name could not be resolved.
    #[error("could not resolve {0}: {1}")]
    Dns(String, String),
    /// No complete response (headers and body) within the timeout.
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    /// No connection could be made (refused, unreachable, TLS failure).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The receiver redirected more than [`MAX_REDIRECTS`] times.
    #[error(
        "more than {} redirects; point the webhook at the final URL (or fix the redirect loop)",
        MAX_REDIRECTS
    )]
    TooManyRedirects,
    /// The receiver redirected to another origin (scheme, host or port).
    #[error(
        "the receiver redirected to {0}, another host: webhooks only follow redirects within the same origin, since each request carries its signature and credentials; point the webhook at the final URL"
    )]
    RedirectRefused(String),
    /// Anything else (the connection dropped mid-response, a request header
    /// that is not valid HTTP, ...).
    #[error("{0}")]
    Other(String),
}

fn refused_message(host: &str, address: IpAddr) -> String {
    let class = describe(address);
    if host == address.to_string() {
        format!("destination refused: {address} is {class}; allow it with --outbound-allow-cidr")
    } else {
        format!(
            "destination refused: {host} resolves to {address}, {class}; allow it with --outbound-allow-cidr"
        )
    }
}

impl SendError {
    /// A short, stable code for the delivery log and metrics.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            SendError::InvalidUrl(_) => "invalid_url",
            SendError::DestinationRefused { .. } => "destination_refused",
            SendError::Dns(..) => "dns",
            SendError::Timeout(_) => "timeout",
            SendError::Connect(_) => "connect",
            SendError::TooManyRedirects => "too_many_redirects",
            SendError::RedirectRefused(_) => "redirect_refused",
            SendError::Other(_) => "other",
        }
    }
}

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

/// The checks that need no DNS: scheme, host present, IP literal permitted.
pub(crate) fn check_target(policy: &DestinationPolicy, url: &Url) -> Result<(), SendError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(SendError::InvalidUrl(format!(
                "`{url}` uses the scheme `{other}`; only http and https are allowed"
            )));
        }
    }
    let Some(host) = url.host_str() else {
        return Err(SendError::InvalidUrl(format!("`{url}` has no host")));
    };
    // The URL parser has already normalised IPv4 literals (`2130706433`,
    // `0x7f.1`) to dotted quads and wraps IPv6 literals in brackets, so
    // whatever parses as an address here is the address reqwest connects to.
    let literal = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    let Ok(address) = literal.parse::<IpAddr>() else {
        return Ok(());
    };
    if policy.permits(address) {
        Ok(())
    } else {
        Err(SendError::DestinationRefused {
            host: address.to_string(),
            address,
        })
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

/// Turns a reqwest error into what the delivery log should say. reqwest
/// wraps our resolver's and redirect policy's errors (a refused destination
/// reaches us as "error sending request: client error (Connect): dns error:
/// ..."), so the source chain is searched for the [`SendError`] we raised
/// before falling back to reqwest's own classification.
fn map_reqwest_error(error: &reqwest::Error, timeout: Duration) -> SendError {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(ours) = current.downcast_ref::<SendError>() {
            return ours.clone();
        }
        source = current.source();
    }
    if error.is_timeout() {
        SendError::Timeout(timeout)
    } else if error.is_connect() {
        // The outer layers only say "error sending request for url (...)";
        // the cause (refused, unreachable, certificate) is what helps.
        let cause = error
            .source()
            .map(error_chain)
            .unwrap_or_else(|| error.to_string());
        match error.url() {
            Some(url) => SendError::Connect(format!("{cause} ({url})")),
            None => SendError::Connect(cause),
        }
    } else if error.is_body() || error.is_decode() {
        SendError::Other(format!(
            "reading the response failed: {}",
            error_chain(error)
        ))
    } else {
        SendError::Other(error_chain(error))
    }
}

/// "outer: inner: innermost", skipping layers that repeat their source and
/// hyper's "client error (Connect)"-style labels, which add nothing.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(current) = source {
        let text = current.to_string();
        if !text.starts_with("client error (") && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    parts.join(": ")
}

/// Resolves with the system resolver and keeps only the addresses the policy
/// permits. Connecting is done by reqwest with exactly these addresses, so
/// a name cannot resolve to a public address when checked and to a private
/// one when connected.
struct PolicyResolver {
    policy: Arc<DestinationPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's port (or the scheme's).
            let resolved = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|error| SendError::Dns(host.clone(), error.to_string()))?;
            let mut permitted: Vec<SocketAddr> = Vec::new();
            let mut refused: Option<IpAddr> = None;
            for address in resolved {
                if policy.permits(address.ip()) {
                    permitted.push(address);
                } else {
                    tracing::debug!(%host, address = %address.ip(), "dropping a refused address");
                    refused.get_or_insert(address.ip());
                }
            }
            if permitted.is_empty() {
                let error = match refused {
                    Some(address) => SendError::DestinationRefused { host, address },
                    None => SendError::Dns(host, "no addresses found".to_owned()),
                };
                return Err(error.into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{any, get};
    use axum::serve::ListenerExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn loopback_allowed() -> DestinationPolicy {
        DestinationPolicy::parse_list("127.0.0.0/8").expect("valid CIDR")
    }

    fn client(policy: DestinationPolicy) -> WebhookClient {
        WebhookClient::new(policy).expect("client builds")
    }

    fn get_request(url: String) -> OutboundRequest {
        OutboundRequest {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(5),
        }
    }

    /// What the test receiver saw of one request.
    #[derive(Debug, Clone)]
    struct Seen {
        method: String,
        path: String,
        headers: AxumHeaders,
        body: Vec<u8>,
    }

    #[derive(Clone, Default)]
    struct Receiver {
        seen: Arc<Mutex<Vec<Seen>>>,
        connections: Arc<AtomicUsize>,
    }

    impl Receiver {
        fn seen(&self) -> Vec<Seen> {
            self.seen.lock().expect("not poisoned").clone()
        }
    }

    async fn record(
        State(receiver): State<Receiver>,
        method: AxumMethod,
        uri: axum::http::Uri,
        headers: AxumHeaders,
        body: Bytes,
    ) -> impl IntoResponse {
        receiver.seen.lock().expect("not poisoned").push(Seen {
            method: method.to_string(),
            path: uri.path().to_owned(),
            headers,
            body: body.to_vec(),
        });
        (
            StatusCode::CREATED,
            [("x-receiver", "yes")],
            "thanks".to_owned(),
        )
    }

    async fn redirect_to(
        State(receiver): State<Receiver>,
        Path(target): Path<String>,
    ) -> impl IntoResponse {
        receiver.seen.lock().expect("not poisoned").push(Seen {
            method: "GET".to_owned(),
            path: format!("/redirect/{target}"),
            headers: AxumHeaders::new(),
            body: Vec::new(),
        });
        let location = match target.as_str() {
            "private" => "http://10.0.0.1/".to_owned(),
            "metadata" => "http://169.254.169.254/latest/meta-data/".to_owned(),
            "mapped" => "http://[::ffff:10.0.0.1]/".to_owned(),
            "ftp" => "ftp://example.com/hook".to_owned(),
            "file" => "file:///etc/passwd".to_owned(),
            "local" => "/hook".to_owned(),
            other => format!("/redirect/{other}x"),
        };
        (StatusCode::FOUND, [("location", location)])
    }

    /// Starts the test receiver on 127.0.0.1 and returns its base URL.
    async fn start_receiver() -> (String, Receiver) {
        let receiver = Receiver::default();
        let router = Router::new()
            .route("/hook", any(record))
            .route("/redirect/{target}", get(redirect_to))
            .route(
                "/retry-seconds",
                get(|| async { (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "7")]) }),
            )
            .route(
                "/big/{size}",
                get(|Path(size): Path<usize>| async move { vec![b'x'; size] }),
            )
            .route("/hang", get(std::future::pending::<()>))
            .with_state(receiver.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local addr");
        let connections = Arc::clone(&receiver.connections);
        let listener = listener.tap_io(move |_| {
            connections.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move {
            axum::serve(listener, router).await.expect("receiver runs");
        });
        (format!("http://{address}"), receiver)
    }

    /// A server that reads the request and answers with `response` verbatim,
    /// then keeps the connection open (for half-sent bodies).
    async fn start_raw(response: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = stream.read(&mut buffer).await;
                    let _ = stream.write_all(response).await;
                    std::future::pending::<()>().await;
                });
            }
        });
        format!("http://{address}")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn permits_public_addresses_and_refuses_every_special_class() {
        let policy = DestinationPolicy::default();
        let table = [
            // Public.
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("93.184.216.34", true),
            ("172.32.0.1", true),
            ("100.128.0.1", true),
            ("2606:4700:4700::1111", true),
            ("2a00:1450:4001:80b::200e", true),
            ("::ffff:8.8.8.8", true),
            ("2002:0808:0808::1", true),
            ("64:ff9b::808:808", true),
            // Loopback.
            ("127.0.0.1", false),
            ("127.255.255.254", false),
            ("::1", false),
            // Private.
            ("10.0.0.1", false),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("192.168.1.1", false),
            // Link-local, including cloud metadata.
            ("169.254.169.254", false),
            ("fe80::1", false),
            // Multicast.
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("ff02::1", false),
            // Unspecified and "this network".
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("::", false),
            // Broadcast and reserved.
            ("255.255.255.255", false),
            ("240.0.0.1", false),
            // Shared address space (carrier-grade NAT).
            ("100.64.0.1", false),
            ("100.127.255.255", false),
            // Documentation and benchmarking.
            ("192.0.2.1", false),
            ("198.51.100.1", false),
            ("203.0.113.1", false),
            ("198.18.0.1", false),
            ("2001:db8::1", false),
            ("3fff::1", false),
            // IPv6 unique local and site-local.
            ("fc00::1", false),
            ("fd12:3456:789a::1", false),
            ("fec0::1", false),
            // IPv4 inside IPv6, judged by the IPv4 address.
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("::127.0.0.1", false),
            ("2002:7f00:0001::1", false),
            ("2002:a9fe:a9fe::", false),
            ("64:ff9b::a00:1", false),
            ("64:ff9b:1::1", false),
        ];
        let wrong: Vec<_> = table
            .iter()
            .filter(|(address, expected)| policy.permits(ip(address)) != *expected)
            .collect();
        assert!(wrong.is_empty(), "misjudged (address, expected): {wrong:?}");
    }

    #[test]
    fn allow_list_permits_only_its_ranges() {
        let policy =
            DestinationPolicy::parse_list(" 127.0.0.0/8 , ::1/128,10.1.2.3").expect("valid");
        assert_eq!(policy.allowed.len(), 3);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("127.1.2.3")));
        assert!(policy.permits(ip("::1")));
        assert!(
            policy.permits(ip("::ffff:127.0.0.1")),
            "mapped form of an allowed address"
        );
        assert!(policy.permits(ip("10.1.2.3")), "a bare address is a /32");
        assert!(!policy.permits(ip("10.1.2.4")));
        assert!(!policy.permits(ip("192.168.0.1")));
        assert!(!policy.permits(ip("169.254.169.254")));
        assert!(policy.permits(ip("8.8.8.8")), "public stays allowed");
    }

    #[test]
    fn parse_list_accepts_empty_and_names_a_bad_entry() {
        assert!(
            DestinationPolicy::parse_list("")
                .expect("empty")
                .allowed
                .is_empty()
        );
        assert!(
            DestinationPolicy::parse_list(" , ")
                .expect("blank")
                .allowed
                .is_empty()
        );
        let error = DestinationPolicy::parse_list("127.0.0.0/8,localhost").expect_err("not a CIDR");
        assert_eq!(error.input, "localhost");
        assert!(error.to_string().contains("`localhost`"), "{error}");
        assert!("10.0.0.0/33".parse::<DestinationPolicy>().is_err());
    }

    #[test]
    fn check_url_refuses_bad_urls_without_dns() {
        let client = client(DestinationPolicy::default());
        let refused = [
            ("not a url", "invalid_url"),
            ("ftp://example.com/hook", "invalid_url"),
            ("file:///etc/passwd", "invalid_url"),
            ("mailto:someone@example.com", "invalid_url"),
            ("http://10.0.0.1/hook", "destination_refused"),
            ("http://127.0.0.1:8080/", "destination_refused"),
            ("http://[::1]/", "destination_refused"),
            ("http://[::ffff:127.0.0.1]/", "destination_refused"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "destination_refused",
            ),
            // The URL parser normalises these to 127.0.0.1.
            ("http://2130706433/", "destination_refused"),
            ("http://0x7f.1/", "destination_refused"),
            ("https://0.0.0.0/", "destination_refused"),
        ];
        for (url, kind) in refused {
            let error = client.check_url(url).expect_err(url);
            assert_eq!(error.kind(), kind, "{url}: {error}");
        }
        let accepted = client
            .check_url("https://hooks.example.com/in?x=1")
            .expect("a public name is fine");
        assert_eq!(accepted.host_str(), Some("hooks.example.com"));
        client
            .check_url("http://8.8.8.8/")
            .expect("a public literal is fine");
    }

    #[test]
    fn refusal_messages_name_the_address_class_and_the_flag() {
        let literal = WebhookClient::new(DestinationPolicy::default())
            .expect("client")
            .check_url("http://169.254.169.254/")
            .expect_err("metadata address");
        assert_eq!(
            literal.to_string(),
            "destination refused: 169.254.169.254 is a link-local address (169.254.0.0/16); \
             allow it with --outbound-allow-cidr"
        );
        let by_name = SendError::DestinationRefused {
            host: "internal.example".to_owned(),
            address: ip("::ffff:10.0.0.1"),
        };
        assert_eq!(
            by_name.to_string(),
            "destination refused: internal.example resolves to ::ffff:10.0.0.1, an IPv4-mapped \
             address of 10.0.0.1, a private address (10.0.0.0/8); allow it with --outbound-allow-cidr"
        );
    }

    #[tokio::test]
    async fn post_reaches_an_allowed_local_receiver() {
        let (base, receiver) = start_receiver().await;
        let response = client(loopback_allowed())
            .send(OutboundRequest {
                method: Method::POST,
                url: format!("{base}/hook"),
                headers: vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("webhook-id".to_owned(), "msg_1".to_owned()),
                    ("x-repeated".to_owned(), "a".to_owned()),
                    ("x-repeated".to_owned(), "b".to_owned()),
                ],
                body: Some(br#"{"event":"lead.created"}"#.to_vec()),
                timeout: Duration::from_secs(5),
            })
            .await
            .expect("delivered");

        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"thanks");
        assert!(!response.body_truncated);
        assert!(response.retry_after.is_none());
        assert!(
            response
                .headers
                .contains(&("x-receiver".to_owned(), "yes".to_owned())),
            "{:?}",
            response.headers
        );
        assert!(response.duration > Duration::ZERO);

        let seen = receiver.seen();
        assert_eq!(seen.len(), 1);
        let request = &seen[0];
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hook");
        assert_eq!(request.body, br#"{"event":"lead.created"}"#);
        assert_eq!(request.headers["content-type"], "application/json");
        assert_eq!(request.headers["webhook-id"], "msg_1");
        let repeated: Vec<_> = request.headers.get_all("x-repeated").iter().collect();
        assert_eq!(repeated, ["a", "b"]);
        assert_eq!(
            request.headers["user-agent"],
            format!("Switchyard-Webhooks/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[tokio::test]
    async fn loopback_receiver_is_refused_when_nothing_is_allowed() {
        let (base, receiver) = start_receiver().await;
        let error = client(DestinationPolicy::default())
            .send(get_request(format!("{base}/hook")))
            .await
            .expect_err("loopback refused");
        assert_eq!(
            error,
            SendError::DestinationRefused {
                host: "127.0.0.1".to_owned(),
                address: ip("127.0.0.1"),
            }
        );
        assert!(
            error.to_string().contains("--outbound-allow-cidr"),
            "{error}"
        );
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn localhost_by_name_is_refused_by_the_resolver() {
        let (base, receiver) = start_receiver().await;
        let url = base.replace("127.0.0.1", "localhost");
        let client = client(DestinationPolicy::default());
        client
            .check_url(&url)
            .expect("names are only judged when resolved");
        let error = client
            .send(get_request(format!("{url}/hook")))
            .await
            .expect_err("localhost refused");
        match &error {
            SendError::DestinationRefused { host, address } => {
                assert_eq!(host, "localhost");
                assert!(address.is_loopback(), "{address}");
            }
            other => panic!("expected DestinationRefused, got {other:?} ({other})"),
        }
        assert!(
            error.to_string().contains("localhost resolves to"),
            "{error}"
        );
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn localhost_by_name_is_reached_when_loopback_is_allowed() {
        // Only IPv4 loopback is allowed: if `localhost` also resolves to ::1,
        // the resolver drops it and the request still reaches 127.0.0.1.
        let (base, receiver) = start_receiver().await;
        let url = base.replace("127.0.0.1", "localhost");
        let response = client(loopback_allowed())
            .send(get_request(format!("{url}/hook")))
            .await
            .expect("delivered");
        assert_eq!(response.status, 201);
        assert_eq!(receiver.seen().len(), 1);
    }

    #[tokio::test]
    async fn unresolvable_name_is_a_dns_error() {
        // `.invalid` never resolves (RFC 6761).
        // Without a reachable DNS server, getaddrinfo gives up after its own
        // timeouts (about 10 s) with a Dns error too, hence the long timeout.
        let error = client(DestinationPolicy::default())
            .send(OutboundRequest {
                timeout: Duration::from_secs(30),
                ..get_request("http://switchyard-test.invalid/".to_owned())
            })
            .await
            .expect_err("does not resolve");
        match &error {
            SendError::Dns(host, _) => assert_eq!(host, "switchyard-test.invalid"),
            other => panic!("expected Dns, got {other:?} ({other})"),
        }
    }

    #[tokio::test]
    async fn redirects_to_private_literals_are_refused() {
        let (base, receiver) = start_receiver().await;
        let client = client(loopback_allowed());
        for (target, address) in [
            ("private", "10.0.0.1"),
            ("metadata", "169.254.169.254"),
            ("mapped", "::ffff:10.0.0.1"),
        ] {
            // A connection attempt to these would end in Connect or Timeout,
            // not in DestinationRefused.
            let error = client
                .send(get_request(format!("{base}/redirect/{target}")))
                .await
                .expect_err(target);
            assert_eq!(
                error,
                SendError::DestinationRefused {
                    host: address.to_owned(),
                    address: ip(address),
                },
                "{target}"
            );
        }
        let error = client
            .send(get_request(format!("{base}/redirect/ftp")))
            .await
            .expect_err("ftp redirect");
        assert_eq!(error.kind(), "invalid_url", "{error}");
        assert!(error.to_string().contains("`ftp`"), "{error}");
        // A Location without an authority never reaches the redirect policy:
        // the redirect layer cannot make an HTTP request of it and hands the
        // 302 back unfollowed, which is just as safe.
        let response = client
            .send(get_request(format!("{base}/redirect/file")))
            .await
            .expect("302 returned as is");
        assert_eq!(response.status, 302);
        assert_eq!(
            receiver.seen().len(),
            5,
            "only the redirecting requests arrived"
        );
    }

    #[tokio::test]
    async fn redirect_to_an_allowed_local_path_is_followed() {
        let (base, receiver) = start_receiver().await;
        let response = client(loopback_allowed())
            .send(get_request(format!("{base}/redirect/local")))
            .await
            .expect("followed");
        assert_eq!(response.status, 201);
        assert_eq!(response.body, b"thanks");
        let paths: Vec<_> = receiver.seen().into_iter().map(|seen| seen.path).collect();
        assert_eq!(paths, ["/redirect/local", "/hook"]);
    }

    #[tokio::test]
    async fn more_than_five_redirects_fail() {
        let (base, receiver) = start_receiver().await;
        let error = client(loopback_allowed())
            .send(get_request(format!("{base}/redirect/x")))
            .await
            .expect_err("endless redirects");
        assert_eq!(error, SendError::TooManyRedirects);
        // The original request plus five followed redirects.
        assert_eq!(receiver.seen().len(), 1 + MAX_REDIRECTS);
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_times_out() {
        let (base, _receiver) = start_receiver().await;
        let started = Instant::now();
        let error = client(loopback_allowed())
            .send(OutboundRequest {
                timeout: Duration::from_millis(200),
                ..get_request(format!("{base}/hang"))
            })
            .await
            .expect_err("times out");
        assert_eq!(error, SendError::Timeout(Duration::from_millis(200)));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_timeout_covers_reading_the_body() {
        let base = start_raw(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part").await;
        let error = client(loopback_allowed())
            .send(OutboundRequest {
                timeout: Duration::from_millis(300),
                ..get_request(format!("{base}/"))
            })
            .await
            .expect_err("body never completes");
        assert_eq!(error.kind(), "timeout", "{error}");
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local addr");
        drop(listener);
        let error = client(loopback_allowed())
            .send(get_request(format!("http://{address}/")))
            .await
            .expect_err("nothing listens");
        assert_eq!(error.kind(), "connect", "{error:?}");
        let message = error.to_string();
        assert!(message.contains("Connection refused"), "{message}");
        assert!(message.contains(&address.to_string()), "{message}");
        assert!(!message.contains("client error"), "{message}");
    }

    #[tokio::test]
    async fn response_bodies_are_capped() {
        let (base, _receiver) = start_receiver().await;
        let client = client(loopback_allowed());

        let big = client
            .send(get_request(format!("{base}/big/{}", 200 * 1024)))
            .await
            .expect("delivered");
        assert_eq!(big.body.len(), RESPONSE_BODY_CAP);
        assert!(big.body_truncated);

        let exact = client
            .send(get_request(format!("{base}/big/{RESPONSE_BODY_CAP}")))
            .await
            .expect("delivered");
        assert_eq!(exact.body.len(), RESPONSE_BODY_CAP);
        assert!(!exact.body_truncated);
    }

    #[tokio::test]
    async fn connections_are_reused() {
        let (base, receiver) = start_receiver().await;
        let client = client(loopback_allowed());
        for _ in 0..50 {
            let response = client
                .send(get_request(format!("{base}/hook")))
                .await
                .expect("delivered");
            assert_eq!(response.status, 201);
        }
        // A truncated body is drained, so even that leaves the connection usable.
        client
            .send(get_request(format!("{base}/big/{}", 100 * 1024)))
            .await
            .expect("delivered");
        client
            .send(get_request(format!("{base}/hook")))
            .await
            .expect("delivered");
        assert_eq!(receiver.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn retry_after_seconds_is_read_from_the_response() {
        let (base, _receiver) = start_receiver().await;
        let response = client(loopback_allowed())
            .send(get_request(format!("{base}/retry-seconds")))
            .await
            .expect("delivered");
        assert_eq!(response.status, 503);
        assert_eq!(response.retry_after, Some(Duration::from_secs(7)));
    }

    #[tokio::test]
    async fn retry_after_as_an_http_date_is_read_from_the_response() {
        let base = start_raw(
            b"HTTP/1.1 429 Too Many Requests\r\nretry-after: Fri, 31 Dec 9999 23:59:59 GMT\r\ncontent-length: 0\r\n\r\n",
        )
        .await;
        let response = client(loopback_allowed())
            .send(get_request(format!("{base}/")))
            .await
            .expect("delivered");
        assert_eq!(response.status, 429);
        let delay = response.retry_after.expect("parsed");
        assert!(delay > Duration::from_secs(365 * 24 * 3600), "{delay:?}");
    }

    #[test]
    fn retry_after_parsing() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let cases = [
            ("120", Some(120)),
            (" 0 ", Some(0)),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(60)),
            ("Wednesday, 21-Oct-15 07:28:00 GMT", Some(60)),
            ("Wed Oct 21 07:28:00 2015", Some(60)),
            // In the past: retry now.
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(0)),
            ("soon", None),
            ("-5", None),
            ("1.5", None),
            ("", None),
            ("99999999999999999999999", None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_retry_after(value, now),
                expected.map(Duration::from_secs),
                "{value:?}"
            );
        }
    }

    #[test]
    fn invalid_caller_headers_are_reported_without_their_value() {
        let error = header_map(&[("bad header".to_owned(), "x".to_owned())]).expect_err("name");
        assert!(error.to_string().contains("`bad header`"), "{error}");
        let error = header_map(&[("x-secret".to_owned(), "s3cret\nInjected: 1".to_owned())])
            .expect_err("value");
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert!(error.to_string().contains("x-secret"), "{error}");
    }

    #[test]
    fn every_webhook_method_becomes_the_same_http_method() {
        for method in WebhookMethod::ALL {
            assert_eq!(Method::from(method).as_str(), method.as_str());
        }
    }
}
