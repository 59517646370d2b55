//! Form tokens against cross-site request forgery: every form a page renders carries a token
//! signed for the path it posts to, valid for a day; a POST without a valid one is refused.
//!
//! Why signed tokens and not a session cookie: the pages keep no session (any API process may
//! answer any request), and a form embedded in a campaign's own site runs in a third-party
//! iframe, where browsers drop cookies. The secret part of every page that changes something
//! is already in its path (the RSVP's or the host's token), so a token bound to the path can
//! only come from someone who was shown that page.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a rendered form may be sent.
const LIFETIME_SECS: i64 = 24 * 3600;

/// The name of the hidden field that carries the token.
pub const FIELD: &str = "csrf";

#[derive(Clone)]
pub struct FormTokens {
    key: [u8; 32],
}

impl FormTokens {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, path: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts every key length"),
        };
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// A token for a form that posts to `path`.
    pub fn issue(&self, path: &str) -> String {
        self.issue_at(path, chrono::Utc::now().timestamp())
    }

    fn issue_at(&self, path: &str, now: i64) -> String {
        let expires = now + LIFETIME_SECS;
        format!(
            "{expires}.{}",
            URL_SAFE_NO_PAD.encode(self.mac(path, expires).finalize().into_bytes())
        )
    }

    /// True when `token` was issued for `path` and has not expired.
    pub fn verify(&self, path: &str, token: Option<&str>) -> bool {
        self.verify_at(path, token, chrono::Utc::now().timestamp())
    }

    fn verify_at(&self, path: &str, token: Option<&str>, now: i64) -> bool {
        let Some((expires, sig)) = token.and_then(|t| t.split_once('.')) else {
            return false;
        };
        let (Ok(expires), Ok(sig)) = (expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(sig)) else {
            return false;
        };
        if expires < now || expires > now + LIFETIME_SECS {
            return false;
        }
        // Constant time.
        self.mac(path, expires).verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_for_its_path_until_it_expires() {
        let tokens = FormTokens::new([7; 32]);
        let t = tokens.issue_at("/f/join", 1_000);
        assert!(tokens.verify_at("/f/join", Some(&t), 1_000));
        assert!(tokens.verify_at("/f/join", Some(&t), 1_000 + LIFETIME_SECS));
        assert!(!tokens.verify_at("/f/join", Some(&t), 1_001 + LIFETIME_SECS));
        assert!(!tokens.verify_at("/f/other", Some(&t), 1_000));
        assert!(!tokens.verify_at("/f/join", None, 1_000));
        assert!(!tokens.verify_at("/f/join", Some("1.abc"), 0));
        let other = FormTokens::new([8; 32]);
        assert!(!other.verify_at("/f/join", Some(&t), 1_000));
    }
}
