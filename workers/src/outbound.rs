//! The one HTTP client for every call Turnout makes to a URL a user gave (webhook deliveries;
//! plugin `call-webhook` targets go through it too). It enforces the domain's
//! [`OutboundPolicy`] where the connection is made:
//!
//! - the URL is checked again before each call (a row saved before the guard, or edited in the
//!   database, gets no pass);
//! - names are resolved by [`GuardedResolver`], which drops every internal address, so a name
//!   that resolves or rebinds to loopback or the metadata service is never dialled;
//! - redirects are not followed, proxies from the environment are not used (they would dial for
//!   us), and the answer is read up to [`MAX_READ_BYTES`] within the caller's timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use turnout_domain::outbound::OutboundPolicy;

/// The most of an answer that is read; the rest is dropped with the connection.
pub const MAX_READ_BYTES: usize = 64 * 1024;

/// What came back from a call.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The first [`MAX_READ_BYTES`] of the body, as text (lossy).
    pub body: String,
}

/// Why a call did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not connect")]
    Connect,
    #[error("request failed: {0}")]
    Other(String),
}

#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
    policy: OutboundPolicy,
}

impl OutboundClient {
    pub fn new(policy: OutboundPolicy) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .build()
            .context("cannot build the outbound HTTP client")?;
        Ok(Self { http, policy })
    }

    /// POSTs `body` to `url` with `headers`, waiting at most `timeout` for the whole answer.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: String,
        timeout: Duration,
    ) -> Result<Reply, CallError> {
        let url = self.policy.check_url(url).map_err(CallError::Refused)?;
        let mut request = self.http.post(url).timeout(timeout).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let call = async {
            let mut response = request.send().await.map_err(|e| describe(e, timeout))?;
            let status = response.status().as_u16();
            let mut bytes = Vec::new();
            while bytes.len() < MAX_READ_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(err) => return Err(describe(err, timeout)),
                }
            }
            bytes.truncate(MAX_READ_BYTES);
            Ok(Reply {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| CallError::Timeout(timeout))?
    }
}

fn describe(err: reqwest::Error, timeout: Duration) -> CallError {
    if let Some(refused) = refusal_in(&err) {
        return CallError::Refused(refused);
    }
    if err.is_timeout() {
        CallError::Timeout(timeout)
    } else if err.is_connect() {
        CallError::Connect
    } else {
        CallError::Other(err.without_url().to_string())
    }
}

/// The resolver's refusal, if that is why the request failed.
fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<InternalAddress>() {
            return Some(refused.to_string());
        }
        source = e.source();
    }
    None
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` resolves only to loopback, private, link-local or metadata addresses")]
struct InternalAddress(String);

/// Resolves names with the system resolver and keeps only the addresses the policy allows.
struct GuardedResolver {
    policy: OutboundPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| policy.allows(&host, addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(InternalAddress(host)) as Box<_>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn resolve(policy: OutboundPolicy, name: &str) -> Result<Vec<SocketAddr>, String> {
        let name: Name = name.parse().map_err(|_| "bad name".to_owned())?;
        GuardedResolver { policy }
            .resolve(name)
            .await
            .map(|addrs| addrs.collect())
            .map_err(|e| e.to_string())
    }

    /// A name that resolves to loopback (here through /etc/hosts, as a rebinding DNS answer
    /// would) is never dialled, unless the operator allowed that name.
    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_dropped_after_resolution() {
        let refused = resolve(OutboundPolicy::public_only(), "localhost").await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("resolves only to loopback")),
            "{refused:?}"
        );
        let allowed = resolve(OutboundPolicy::allowing(["localhost"]), "localhost").await;
        assert!(
            allowed
                .as_ref()
                .is_ok_and(|addrs| addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty()),
            "{allowed:?}"
        );
    }

    #[tokio::test]
    async fn a_call_to_an_internal_literal_is_refused_before_any_connection() {
        let client = OutboundClient::new(OutboundPolicy::public_only()).map_err(|e| e.to_string());
        let Ok(client) = client else {
            panic!("{client:?}", client = client.err());
        };
        let out = client
            .post(
                "http://[::ffff:127.0.0.1]:9/",
                &[],
                String::new(),
                Duration::from_secs(2),
            )
            .await;
        assert!(matches!(out, Err(CallError::Refused(_))), "{out:?}");
    }
}
