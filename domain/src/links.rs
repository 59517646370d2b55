//! The public links Turnout hands out: in messages, calendar invites and GraphQL fields. One
//! owner for their shapes, so a link in a text message and the page that answers it cannot
//! drift apart (the pages' routes are built from the same paths).

use std::fmt;

/// The origin every public link starts with (`TURNOUT_PUBLIC_BASE_URL`), without a trailing
/// slash: `https://act.example.org`. In development it is the listen address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicLinks {
    origin: String,
}

/// Why a base URL was refused.
#[derive(Debug, PartialEq, Eq)]
pub struct BadBaseUrl(pub String);

impl fmt::Display for BadBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadBaseUrl {}

/// A development server on the default listen address.
impl Default for PublicLinks {
    fn default() -> Self {
        Self::for_listen_address(std::net::SocketAddr::from(([127, 0, 0, 1], 8080)))
    }
}

impl PublicLinks {
    /// Parses an origin such as `https://act.example.org` (a trailing slash is dropped). A
    /// path, query or fragment is refused: links are built under the origin's root.
    pub fn parse(base: &str) -> Result<Self, BadBaseUrl> {
        let base = base.trim().trim_end_matches('/');
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .ok_or_else(|| BadBaseUrl(format!("`{base}` must start with https:// or http://")))?;
        if rest.is_empty() {
            return Err(BadBaseUrl(format!("`{base}` names no host")));
        }
        if rest.contains(['/', '?', '#', ' ', '@']) {
            return Err(BadBaseUrl(format!(
                "`{base}` must be an origin only (scheme, host and port), with no path, query, \
                 user or fragment"
            )));
        }
        Ok(Self {
            origin: base.to_owned(),
        })
    }

    /// The links of a development server listening on `addr` (on every interface: on
    /// loopback, which a browser on the same machine reaches).
    pub fn for_listen_address(mut addr: std::net::SocketAddr) -> Self {
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Self {
            origin: format!("http://{addr}"),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// True when links are `https://` (cookies may then be marked `Secure`).
    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }

    fn absolute(&self, path: String) -> String {
        format!("{}{path}", self.origin)
    }

    /// The RSVP's own page: status, calendar, confirm, cancel, change shift.
    pub fn rsvp(&self, token: &str) -> String {
        self.absolute(paths::rsvp(token))
    }

    /// The RSVP's calendar invite (RFC 5545).
    pub fn ics(&self, token: &str) -> String {
        self.absolute(paths::ics(token))
    }

    /// A shift's host check-in page.
    pub fn host(&self, token: &str) -> String {
        self.absolute(paths::host(token))
    }

    /// A sign-up form, with the referral code of the person sharing it.
    pub fn form(&self, slug: &str, referral_code: Option<&str>) -> String {
        let mut url = self.absolute(paths::form(slug));
        if let Some(code) = referral_code {
            url.push_str("?ref=");
            url.push_str(&percent_encode(code));
        }
        url
    }

    /// An event's public page.
    pub fn event(&self, event_id: uuid::Uuid) -> String {
        self.absolute(paths::event(event_id))
    }

    /// The organization's upcoming public events.
    pub fn events(&self, org_slug: &str) -> String {
        self.absolute(format!(
            "{}?org={}",
            paths::EVENTS,
            percent_encode(org_slug)
        ))
    }

    /// The unsubscribe page of a broadcast email (also its RFC 8058 one-click target).
    pub fn unsubscribe(&self, token: &str) -> String {
        self.absolute(paths::unsubscribe(token))
    }

    /// The page where an invitation is accepted (its emailed link).
    pub fn invitation(&self, token: &str) -> String {
        self.absolute(paths::invitation(token))
    }

    /// The page where a new password is set (a reset email's link).
    pub fn password_reset(&self, token: &str) -> String {
        self.absolute(paths::password_reset(token))
    }
}

/// The paths of the public pages, relative to the origin.
pub mod paths {
    use super::percent_encode;

    pub fn rsvp(token: &str) -> String {
        format!("/r/{}", percent_encode(token))
    }

    pub fn ics(token: &str) -> String {
        format!("/ics/{}.ics", percent_encode(token))
    }

    pub fn host(token: &str) -> String {
        format!("/host/{}", percent_encode(token))
    }

    pub fn form(slug: &str) -> String {
        format!("/f/{}", percent_encode(slug))
    }

    pub fn event(event_id: uuid::Uuid) -> String {
        format!("/e/{event_id}")
    }

    pub fn unsubscribe(token: &str) -> String {
        format!("/u/{}", percent_encode(token))
    }

    pub fn invitation(token: &str) -> String {
        format!("/invite/{}", percent_encode(token))
    }

    pub fn password_reset(token: &str) -> String {
        format!("/reset/{}", percent_encode(token))
    }

    /// Where a password reset is asked for.
    pub const PASSWORD_RESET: &str = "/reset";

    pub const EVENTS: &str = "/events";
}

/// Percent-encodes everything but the URL-safe unreserved characters (tokens and slugs are
/// already safe; this keeps a stray character from changing a link's meaning).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_parses_and_links_are_absolute() {
        let links = PublicLinks::parse("https://act.example.org/").unwrap();
        assert_eq!(links.origin(), "https://act.example.org");
        assert_eq!(links.rsvp("abc_-9"), "https://act.example.org/r/abc_-9");
        assert_eq!(
            links.form("join", Some("X Y")),
            "https://act.example.org/f/join?ref=X%20Y"
        );
        assert!(links.is_https());
    }

    #[test]
    fn a_path_or_another_scheme_is_refused() {
        for bad in [
            "act.example.org",
            "ftp://x.org",
            "https://",
            "https://x.org/crm",
            "https://x.org?a=1",
            "https://u@x.org",
        ] {
            assert!(PublicLinks::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(PublicLinks::parse("http://127.0.0.1:8080").is_ok());
    }
}
