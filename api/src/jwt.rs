//! Access tokens: short-lived JWTs signed with HS256 (the only algorithm accepted), each naming
//! its key in `kid` so keys can rotate: the first configured key signs, all of them verify.
//!
//! A token carries `iss`, `aud`, `sub` (the user), `org`, `role`, `iat`, `nbf` and `exp`; every
//! one is required and checked. What the caller may do is read from the database on every
//! request (the `role` claim is informative), so a removed membership stops working at once.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The one signing algorithm; tokens naming any other are refused.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// Default `iss` and `aud`.
pub const DEFAULT_ISSUER: &str = "turnout";
pub const DEFAULT_AUDIENCE: &str = "turnout-api";
/// Default lifetime of an access token.
pub const DEFAULT_ACCESS_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 5;
/// The shortest secret accepted (bytes): HS256 wants at least 256 bits.
const MIN_SECRET_BYTES: usize = 32;

/// An access token that did not verify. Deliberately says nothing of why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidToken;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The organization's id.
    pub org: String,
    /// The user's role when the token was issued.
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

struct Inner {
    keys: Vec<Key>,
    /// A key for the public pages' form tokens, derived from the signing key, so every API
    /// process of a deployment accepts the tokens the others issued.
    page_key: [u8; 32],
    issuer: String,
    audience: String,
    access_ttl: std::time::Duration,
    validation: Validation,
}

/// The signing keys and token settings. Cheap to clone.
#[derive(Clone)]
pub struct JwtConfig {
    inner: Arc<Inner>,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secrets.
        f.debug_struct("JwtConfig")
            .field(
                "kids",
                &self.inner.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("access_ttl", &self.inner.access_ttl)
            .finish()
    }
}

/// Whether the deployment is production: then signing keys must be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!(
                "unknown environment `{other}` (expected `development` or `production`)"
            )),
        }
    }
}

/// Parses `kid:base64secret,kid:base64secret,…` (standard or URL-safe base64).
pub fn parse_keys(spec: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut keys = Vec::new();
    for (i, part) in spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        let (kid, secret) = part
            .split_once(':')
            .ok_or_else(|| format!("key {} is not `kid:base64secret`", i + 1))?;
        let kid = kid.trim();
        let secret = secret.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(secret))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(secret))
            .map_err(|_| format!("the secret of key `{kid}` is not valid base64"))?;
        keys.push((kid.to_owned(), bytes));
    }
    Ok(keys)
}

impl JwtConfig {
    /// Keys in order (the first signs), with the given issuer, audience and token lifetime.
    pub fn new(
        keys: Vec<(String, Vec<u8>)>,
        issuer: &str,
        audience: &str,
        access_ttl: std::time::Duration,
    ) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("no signing key".into());
        }
        let page_key = derive_key(&keys[0].1, b"turnout pages form tokens v1");
        let mut built: Vec<Key> = Vec::with_capacity(keys.len());
        for (kid, secret) in keys {
            if kid.is_empty()
                || kid.len() > 64
                || !kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(format!(
                    "key id `{kid}` must be 1–64 letters, digits, `-`, `_` or `.`"
                ));
            }
            if secret.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "the secret of key `{kid}` is shorter than {MIN_SECRET_BYTES} bytes"
                ));
            }
            if built.iter().any(|k| k.kid == kid) {
                return Err(format!("key id `{kid}` appears twice"));
            }
            built.push(Key {
                encoding: EncodingKey::from_secret(&secret),
                decoding: DecodingKey::from_secret(&secret),
                kid,
            });
        }
        if issuer.trim().is_empty() || audience.trim().is_empty() {
            return Err("the issuer and the audience must not be empty".into());
        }
        if access_ttl.as_secs() < 30 || access_ttl.as_secs() > 24 * 3600 {
            return Err("the access token lifetime must be between 30 s and 24 h".into());
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.algorithms = vec![ALGORITHM];
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Ok(Self {
            inner: Arc::new(Inner {
                keys: built,
                page_key,
                issuer: issuer.to_owned(),
                audience: audience.to_owned(),
                access_ttl,
                validation,
            }),
        })
    }

    /// The configuration from settings: `keys` as `kid:base64secret,…`. Without keys,
    /// development generates a random one (tokens then die with the process) and says so;
    /// production refuses.
    pub fn from_settings(
        keys: Option<&str>,
        env: Environment,
        issuer: &str,
        audience: &str,
        access_ttl: std::time::Duration,
    ) -> Result<Self, String> {
        let parsed = match keys {
            Some(spec) if !spec.trim().is_empty() => parse_keys(spec)?,
            _ if env == Environment::Production => {
                return Err("TURNOUT_JWT_KEYS must be set in production (`kid:base64secret,…`; the first key signs)".into());
            }
            _ => {
                tracing::warn!(
                    "TURNOUT_JWT_KEYS is not set: generated a random signing key for this process \
                     (development mode); sessions end when it restarts. Set TURNOUT_JWT_KEYS in production."
                );
                vec![generated_key()]
            }
        };
        Self::new(parsed, issuer, audience, access_ttl)
    }

    /// A development configuration with a freshly generated key.
    pub fn generated() -> Self {
        match Self::new(
            vec![generated_key()],
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
            DEFAULT_ACCESS_TTL,
        ) {
            Ok(config) => config,
            // The generated key and the defaults are always valid.
            Err(err) => unreachable!("default JWT configuration: {err}"),
        }
    }

    /// The key that signs the public pages' form tokens (CSRF).
    pub(crate) fn page_key(&self) -> &[u8; 32] {
        &self.inner.page_key
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// Signs an access token for `user_id` in `org_id`; returns it and its expiry.
    pub fn sign(
        &self,
        user_id: Uuid,
        org_id: Uuid,
        role: &str,
    ) -> Result<(String, DateTime<Utc>), String> {
        let key = self.inner.keys.first().ok_or("no signing key")?;
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.inner.access_ttl)
            .map_err(|_| "access token lifetime out of range")?;
        let expires_at = now + ttl;
        let claims = Claims {
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            sub: user_id.to_string(),
            org: org_id.to_string(),
            role: role.to_owned(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|err| format!("signing an access token: {err}"))?;
        Ok((token, expires_at))
    }

    /// Verifies an access token: algorithm, key, signature and every claim. Returns the user
    /// and organization ids. The error says nothing of what was wrong.
    pub fn verify(&self, token: &str) -> Result<(Uuid, Uuid), InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken)?;
        if header.alg != ALGORITHM {
            return Err(InvalidToken);
        }
        let kid = header.kid.ok_or(InvalidToken)?;
        let key = self
            .inner
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(InvalidToken)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.inner.validation)
            .map_err(|_| InvalidToken)?;
        let claims = data.claims;
        // `iat` is required by the type; it must not be in the future.
        let now = Utc::now().timestamp();
        if claims.iat > now + LEEWAY_SECS as i64 || claims.role.is_empty() {
            return Err(InvalidToken);
        }
        let user = Uuid::parse_str(&claims.sub).map_err(|_| InvalidToken)?;
        let org = Uuid::parse_str(&claims.org).map_err(|_| InvalidToken)?;
        Ok((user, org))
    }
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self::generated()
    }
}

fn generated_key() -> (String, Vec<u8>) {
    use rand::RngCore as _;
    let mut secret = vec![0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    (format!("dev-{}", Uuid::new_v4().simple()), secret)
}

/// HMAC-SHA256 of `purpose` under `secret`: a key for another use that reveals nothing of the
/// signing secret.
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes a key of any length.
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(spec: &str) -> JwtConfig {
        JwtConfig::new(
            parse_keys(spec).unwrap(),
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
            DEFAULT_ACCESS_TTL,
        )
        .unwrap()
    }

    const K1: &str = "k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
    const K2: &str = "k2:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY=";

    #[test]
    fn signs_and_verifies_across_rotation() {
        let old = config(K1);
        let rotated = config(&format!("{K2},{K1}"));
        let (user, org) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, _) = old.sign(user, org, "admin").unwrap();
        assert_eq!(rotated.verify(&token), Ok((user, org)));
        let (token, _) = rotated.sign(user, org, "admin").unwrap();
        assert_eq!(rotated.verify(&token), Ok((user, org)));
        assert_eq!(
            old.verify(&token),
            Err(InvalidToken),
            "old deployments do not know k2"
        );
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(parse_keys("nokid").is_err());
        assert!(parse_keys("k:not base64!").is_err());
        assert!(
            JwtConfig::new(
                parse_keys("k:c2hvcnQ=").unwrap(),
                "i",
                "a",
                DEFAULT_ACCESS_TTL
            )
            .is_err()
        );
        assert!(
            JwtConfig::new(
                parse_keys(&format!("{K1},{K1}")).unwrap(),
                "i",
                "a",
                DEFAULT_ACCESS_TTL
            )
            .is_err()
        );
        assert!(
            JwtConfig::from_settings(None, Environment::Production, "i", "a", DEFAULT_ACCESS_TTL)
                .is_err()
        );
        assert!(
            JwtConfig::from_settings(None, Environment::Development, "i", "a", DEFAULT_ACCESS_TTL)
                .is_ok()
        );
    }
}
