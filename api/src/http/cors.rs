//! Cross-origin requests from browser apps (`TURNOUT_CORS_ORIGINS`): only the exact origins
//! the operator lists may call `/graphql` from a browser. Credentials are bearer tokens in a
//! header, never cookies, so responses never allow credentials, and `*` is refused.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call the API from a browser, each exactly as a browser sends it in
/// `Origin` (`https://app.example.org`, `http://localhost:5173`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    /// Parses a comma-separated list. An entry that is not a bare `scheme://host[:port]`
    /// origin is an error naming it, so a typo fails at start-up instead of in every browser.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = origin_of(entry)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The layer answering preflights and adding `Access-Control-*` to responses for these
    /// origins; `None` when the list is empty (then no response carries CORS headers).
    pub(crate) fn layer(&self) -> Option<CorsLayer> {
        if self.0.is_empty() {
            return None;
        }
        let allowed: Vec<HeaderValue> = self
            .0
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(allowed))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("x-request-id"),
                ])
                .expose_headers([header::RETRY_AFTER])
                .max_age(Duration::from_secs(600)),
        )
    }
}

/// The serialized origin of `entry`, as browsers send it: lowercase scheme and host, and no
/// default port.
fn origin_of(entry: &str) -> Result<String, String> {
    let bad = |why: &str| format!("TURNOUT_CORS_ORIGINS: `{entry}` {why}");
    if entry == "*" || entry.contains('*') {
        return Err(bad(
            "is a wildcard; list each origin exactly (for example https://app.example.org)",
        ));
    }
    let url =
        url::Url::parse(entry).map_err(|_| bad("is not an origin like https://app.example.org"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must start with http:// or https://"));
    }
    if url.host_str().is_none() {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not hold a user name or password"));
    }
    // `Url` normalizes an empty path to "/"; anything more is not an origin.
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || entry.ends_with('/')
    {
        return Err(bad(
            "must be an origin only: scheme, host and port, with no path or trailing slash",
        ));
    }
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Ok(origin.ascii_serialization()),
        url::Origin::Opaque(_) => Err(bad("is not an origin like https://app.example.org")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_as_browsers_send_them() {
        let o =
            CorsOrigins::parse(" HTTPS://App.Example.org:443 , http://localhost:5173,").unwrap();
        assert_eq!(
            o.as_slice(),
            ["https://app.example.org", "http://localhost:5173"]
        );
        assert!(CorsOrigins::parse("").unwrap().is_empty());
    }

    #[test]
    fn anything_but_an_exact_origin_is_refused_with_its_name() {
        for bad in [
            "*",
            "https://*.example.org",
            "app.example.org",
            "ftp://example.org",
            "https://example.org/",
            "https://example.org/app",
            "https://user:pw@example.org",
            "https://example.org?x=1",
        ] {
            let err = CorsOrigins::parse(&format!("http://ok.example, {bad}")).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }
}
