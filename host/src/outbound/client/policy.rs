//! Which destinations outbound webhooks may reach: [`DestinationPolicy`]
//! judges an IP address (public unicast always; anything else only inside
//! a range the operator allowed), [`check_target`] a URL before any DNS,
//! and [`PolicyResolver`] every address DNS returns, so that what is
//! judged is exactly what is connected to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::SendError;

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
pub(super) fn describe(ip: IpAddr) -> String {
    match classify(ip) {
        Class::Special(class) => class.to_owned(),
        Class::Embedded(form, v4) => format!("{form} of {v4}, {}", describe(IpAddr::V4(v4))),
        // Only reachable if a caller builds the error by hand.
        Class::Public => "outside the allowed ranges".to_owned(),
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

/// Resolves with the system resolver and keeps only the addresses the policy
/// permits. Connecting is done by reqwest with exactly these addresses, so
/// a name cannot resolve to a public address when checked and to a private
/// one when connected.
pub(super) struct PolicyResolver {
    pub(super) policy: Arc<DestinationPolicy>,
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
}
