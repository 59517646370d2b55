//! Rate limits, in memory per process (GCRA, via `governor`): the public sign-up per client IP
//! and per form, and every credential (API key or user) by its own budget. A limit of 0 turns
//! that limit off.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

/// Budgets per minute; each may be spent in one burst.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitConfig {
    pub signups_per_ip_per_minute: u32,
    pub signups_per_form_per_minute: u32,
    pub requests_per_credential_per_minute: u32,
    /// Credential attempts (login, refresh, accepting an invitation) per client IP: the brake on
    /// password guessing.
    pub logins_per_ip_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            signups_per_ip_per_minute: 30,
            signups_per_form_per_minute: 6_000,
            requests_per_credential_per_minute: 1_200,
            logins_per_ip_per_minute: 10,
        }
    }
}

pub struct RateLimiter {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_form: Option<DefaultKeyedRateLimiter<String>>,
    per_credential: Option<DefaultKeyedRateLimiter<Uuid>>,
    logins_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Failed logins per account: guesses spread over many IPs slow down too.
    account_failures: Option<AccountBackoff>,
    clock: DefaultClock,
}

/// Failed logins per account (email), with exponential backoff: after
/// [`AccountBackoff::FREE_FAILURES`] failures in a row each attempt must wait 1 s, 2 s, 4 s …
/// up to 15 minutes since the last failure. The account is slowed, never locked: once the wait
/// is over the real user can log in, and a success clears the count.
struct AccountBackoff {
    failures: std::sync::Mutex<std::collections::HashMap<String, (u32, std::time::Instant)>>,
}

impl AccountBackoff {
    const FREE_FAILURES: u32 = 5;
    const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

    fn wait_for(failures: u32) -> Duration {
        if failures < Self::FREE_FAILURES {
            return Duration::ZERO;
        }
        let exponent = (failures - Self::FREE_FAILURES).min(10);
        Duration::from_secs(1u64 << exponent).min(Self::MAX_WAIT)
    }
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)))
}

/// How long until the next request would be allowed.
pub type RetryAfter = Duration;

/// A guard on a secret link (a host or RSVP token) from one client: a client that keeps
/// presenting unknown tokens slows down (exponential backoff per IP), while someone using a
/// good link never does. Opened before the lookup, so a refused attempt changes nothing;
/// recorded after it.
pub(crate) struct TokenGuard<'a> {
    limiter: &'a RateLimiter,
    key: String,
}

impl TokenGuard<'_> {
    /// Counts the attempt: an unknown token (`NOT_FOUND`) is a failure.
    pub(crate) fn record<T>(self, result: &turnout_domain::DomainResult<T>) {
        let failed = matches!(result, Err(turnout_domain::DomainError::NotFound { .. }));
        self.limiter.record_attempt(&self.key, !failed);
    }
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Arc<Self> {
        let limiter = Arc::new(Self {
            per_ip: limiter(config.signups_per_ip_per_minute),
            per_form: limiter(config.signups_per_form_per_minute),
            per_credential: limiter(config.requests_per_credential_per_minute),
            logins_per_ip: limiter(config.logins_per_ip_per_minute),
            // Off with the IP limit (tests that send bursts from one place turn both off).
            account_failures: (config.logins_per_ip_per_minute > 0).then(|| AccountBackoff {
                failures: Default::default(),
            }),
            clock: DefaultClock::default(),
        });
        spawn_housekeeping(Arc::downgrade(&limiter));
        limiter
    }

    /// One request by the credential with id `credential`.
    pub fn check_credential(&self, credential: Uuid) -> Result<(), RetryAfter> {
        self.check(&self.per_credential, &credential)
    }

    /// One public sign-up from `ip` through the form `form`.
    pub fn check_signup(&self, ip: Option<IpAddr>, form: &str) -> Result<(), RetryAfter> {
        if let Some(ip) = ip {
            self.check(&self.per_ip, &ip)?;
        }
        self.check(&self.per_form, &form.to_owned())
    }

    /// Opens a [`TokenGuard`] for links of one kind (`host-link`) from `ip`, or says how long
    /// that client must wait.
    pub(crate) fn token_guard(&self, kind: &str, ip: IpAddr) -> Result<TokenGuard<'_>, RetryAfter> {
        let key = format!("{kind}@{ip}");
        self.check_backoff(&key)?;
        Ok(TokenGuard { limiter: self, key })
    }

    /// One credential attempt (login, refresh, accepting an invitation) from `ip`.
    pub fn check_login(&self, ip: Option<IpAddr>) -> Result<(), RetryAfter> {
        match ip {
            Some(ip) => self.check(&self.logins_per_ip, &ip),
            None => Ok(()),
        }
    }

    /// Whether a credential attempt on `key` (an account's email, or a client IP for host
    /// links and API keys) may be tried now, given its recent failures.
    pub fn check_backoff(&self, account: &str) -> Result<(), RetryAfter> {
        let Some(backoff) = &self.account_failures else {
            return Ok(());
        };
        let failures = backoff
            .failures
            .lock()
            .map_err(|_| Duration::from_secs(1))?;
        match failures.get(&account.trim().to_lowercase()) {
            Some((count, last)) => {
                let wait = AccountBackoff::wait_for(*count).saturating_sub(last.elapsed());
                if wait.is_zero() { Ok(()) } else { Err(wait) }
            }
            None => Ok(()),
        }
    }

    /// Records the outcome of an attempt on `key`: a failure lengthens its backoff, a success
    /// clears it.
    pub fn record_attempt(&self, account: &str, succeeded: bool) {
        let Some(backoff) = &self.account_failures else {
            return;
        };
        let Ok(mut failures) = backoff.failures.lock() else {
            return;
        };
        let key = account.trim().to_lowercase();
        if succeeded {
            failures.remove(&key);
        } else {
            let entry = failures
                .entry(key)
                .or_insert((0, std::time::Instant::now()));
            entry.0 = entry.0.saturating_add(1);
            entry.1 = std::time::Instant::now();
        }
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &Option<DefaultKeyedRateLimiter<K>>,
        key: &K,
    ) -> Result<(), RetryAfter> {
        match limiter {
            Some(l) => l
                .check_key(key)
                .map_err(|not_until| not_until.wait_time_from(self.clock.now())),
            None => Ok(()),
        }
    }
}

/// Forgets keys whose budget is full again, so the maps do not grow with every IP ever seen.
fn spawn_housekeeping(limiter: Weak<RateLimiter>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(l) = limiter.upgrade() else { return };
            if let Some(x) = &l.per_ip {
                x.retain_recent();
                x.shrink_to_fit();
            }
            if let Some(x) = &l.per_form {
                x.retain_recent();
                x.shrink_to_fit();
            }
            if let Some(x) = &l.per_credential {
                x.retain_recent();
                x.shrink_to_fit();
            }
            if let Some(x) = &l.logins_per_ip {
                x.retain_recent();
                x.shrink_to_fit();
            }
            if let Some(b) = &l.account_failures
                && let Ok(mut failures) = b.failures.lock()
            {
                failures.retain(|_, (_, last)| last.elapsed() < AccountBackoff::MAX_WAIT);
            }
        }
    });
}

/// The `Retry-After` value in whole seconds, never 0.
pub fn retry_after_secs(wait: RetryAfter) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budgets_are_per_key_and_zero_means_unlimited() {
        let l = RateLimiter::new(RateLimitConfig {
            signups_per_ip_per_minute: 2,
            signups_per_form_per_minute: 0,
            requests_per_credential_per_minute: 1,
            logins_per_ip_per_minute: 1,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(l.check_signup(Some(a), "f").is_ok());
        assert!(l.check_signup(Some(a), "f").is_ok());
        let wait = l.check_signup(Some(a), "f").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(
            l.check_signup(Some(b), "f").is_ok(),
            "another IP has its own budget"
        );
        let key = Uuid::now_v7();
        assert!(l.check_credential(key).is_ok());
        assert!(l.check_credential(key).is_err());
        assert!(l.check_credential(Uuid::now_v7()).is_ok());
        assert!(l.check_login(Some(a)).is_ok());
        assert!(l.check_login(Some(a)).is_err());
        assert!(l.check_login(Some(b)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
