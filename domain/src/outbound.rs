//! Which addresses Turnout may call when a user gives it a URL (webhook endpoints, and plugin
//! `call-webhook` targets): the SSRF guard. Without it, anyone who may save a webhook URL can
//! make the server POST to its own loopback, the private network or the cloud metadata service.
//!
//! The same [`OutboundPolicy`] checks a URL when it is saved ([`OutboundPolicy::check_url`]) and
//! every address the worker's HTTP client is about to dial ([`OutboundPolicy::allows`]), after
//! DNS resolution, so a name that resolves (or rebinds) to an internal address is refused too.
//! URLs are parsed as browsers and reqwest parse them (the `url` crate), so every spelling of an
//! address (`2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) is the address it means.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use url::{Host, Url};

/// Host names that are internal by convention, whatever they resolve to.
const INTERNAL_NAMES: [&str; 4] = [
    "localhost",
    "metadata",
    "metadata.google.internal",
    "instance-data",
];
const INTERNAL_SUFFIXES: [&str; 4] = [".localhost", ".internal", ".local", ".home.arpa"];

/// Where outbound calls may go: any public address, plus the hosts an operator allowed
/// (`TURNOUT_OUTBOUND_ALLOW`: names or IP addresses, comma-separated), for on-premise
/// integrations and tests.
#[derive(Clone, Debug, Default)]
pub struct OutboundPolicy {
    allow: Arc<[String]>,
}

impl OutboundPolicy {
    /// Public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Public addresses and the hosts in `allow` (host names or IP addresses, any case).
    pub fn allowing<S: AsRef<str>>(allow: impl IntoIterator<Item = S>) -> Self {
        let allow: Vec<String> = allow
            .into_iter()
            .map(|h| canonical_host(h.as_ref().trim()))
            .filter(|h| !h.is_empty())
            .collect();
        Self {
            allow: allow.into(),
        }
    }

    /// The policy of a comma-separated allow-list (`TURNOUT_OUTBOUND_ALLOW`).
    pub fn from_list(list: &str) -> Self {
        Self::allowing(list.split(','))
    }

    fn allowed_host(&self, host: &str) -> bool {
        let host = canonical_host(host);
        self.allow.contains(&host)
    }

    /// Checks a URL a user gave: `http` or `https`, a host, no credentials in it, and a host
    /// that is not internal (an internal IP literal or name) unless the operator allowed it.
    /// Names are checked again, resolved, when the call is made.
    pub fn check_url(&self, raw: &str) -> Result<Url, String> {
        let url =
            Url::parse(raw.trim()).map_err(|_| "must be an absolute http(s) URL".to_owned())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must start with https:// or http://".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        let Some(host) = url.host() else {
            return Err("must name a host".into());
        };
        let host_text = host.to_string();
        if self.allowed_host(&host_text) {
            return Ok(url);
        }
        let internal = match host {
            Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
            Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
            Host::Domain(name) => is_internal_name(name),
        };
        if internal {
            return Err(format!(
                "`{host_text}` is a loopback, private, link-local or metadata address; Turnout \
                 only calls public addresses (an operator can allow a host with \
                 TURNOUT_OUTBOUND_ALLOW)"
            ));
        }
        Ok(url)
    }

    /// Whether the client may dial `ip`, which `host` (the URL's host) resolved to.
    pub fn allows(&self, host: &str, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed_host(host) || self.allowed_host(&ip.to_string())
    }
}

/// Lowercase, without the brackets of an IPv6 literal or a trailing dot.
fn canonical_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

fn is_internal_name(name: &str) -> bool {
    let name = canonical_host(name);
    INTERNAL_NAMES.contains(&name.as_str())
        || INTERNAL_SUFFIXES.iter().any(|s| name.ends_with(s))
        || !name.contains('.')
}

/// True for an address on the public internet: not loopback, private, shared (CGNAT),
/// link-local (which holds the cloud metadata service), multicast, broadcast, unspecified,
/// documentation, benchmarking or reserved; IPv6 forms that embed an IPv4 address are judged by
/// that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 is AWS metadata)
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail());
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling here means an internal address; none may be saved.
    pub const INTERNAL_URLS: [&str; 26] = [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://017700000001/",
        "http://[::1]/",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://0.0.0.0/",
        "http://0/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://localhost:8080/",
        "http://api.localhost./",
    ];

    #[test]
    fn every_spelling_of_an_internal_address_is_refused() {
        let policy = OutboundPolicy::public_only();
        for url in INTERNAL_URLS {
            assert!(policy.check_url(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn public_addresses_and_allowed_hosts_pass() {
        let policy = OutboundPolicy::public_only();
        for url in [
            "https://example.org/hook",
            "http://93.184.215.14/",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
        ] {
            assert!(policy.check_url(url).is_ok(), "{url}");
        }
        for url in [
            "ftp://example.org",
            "https://",
            "https://u:p@example.org/",
            "example.org",
        ] {
            assert!(policy.check_url(url).is_err(), "{url}");
        }
        let allowed = OutboundPolicy::from_list("127.0.0.1, Hooks.Internal ");
        assert!(allowed.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(allowed.check_url("http://hooks.internal/x").is_ok());
        assert!(allowed.check_url("http://[::1]/").is_err());
        assert!(
            allowed.allows(
                "hooks.internal",
                "10.0.0.5"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
            )
        );
        assert!(
            !allowed.allows(
                "evil.example",
                "10.0.0.5"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
            )
        );
    }
}
