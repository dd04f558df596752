//! Why one delivery attempt failed ([`SendError`]): in words an admin
//! reading the delivery log can act on, with a stable code for the log and
//! the metrics; and the reading of reqwest's layered errors into it.

use std::error::Error as StdError;
use std::net::IpAddr;
use std::time::Duration;

use super::MAX_REDIRECTS;
use super::policy::describe;

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

/// Turns a reqwest error into what the delivery log should say. reqwest
/// wraps our resolver's and redirect policy's errors (a refused destination
/// reaches us as "error sending request: client error (Connect): dns error:
/// ..."), so the source chain is searched for the [`SendError`] we raised
/// before falling back to reqwest's own classification.
pub(super) fn map_reqwest_error(error: &reqwest::Error, timeout: Duration) -> SendError {
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

#[cfg(test)]
mod tests {
    use reqwest::Url;

    use super::*;
    use crate::outbound::client::{DestinationPolicy, check_target};

    #[test]
    fn refusal_messages_name_the_address_class_and_the_flag() {
        let url = Url::parse("http://169.254.169.254/").expect("a URL");
        let literal =
            check_target(&DestinationPolicy::default(), &url).expect_err("metadata address");
        assert_eq!(
            literal.to_string(),
            "destination refused: 169.254.169.254 is a link-local address (169.254.0.0/16); \
             allow it with --outbound-allow-cidr"
        );
        let by_name = SendError::DestinationRefused {
            host: "internal.example".to_owned(),
            address: "::ffff:10.0.0.1".parse().expect("an address"),
        };
        assert_eq!(
            by_name.to_string(),
            "destination refused: internal.example resolves to ::ffff:10.0.0.1, an IPv4-mapped \
             address of 10.0.0.1, a private address (10.0.0.0/8); allow it with --outbound-allow-cidr"
        );
    }
}
