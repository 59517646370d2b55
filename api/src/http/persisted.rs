//! Persisted queries, two ways:
//!
//! - **Automatic (APQ)**, Apollo's protocol: a client sends only the SHA-256 of its query in
//!   `extensions.persistedQuery`; a process that has not seen it answers
//!   `PERSISTED_QUERY_NOT_FOUND`, and the client sends the query with its hash once, which the
//!   process keeps (in memory, bounded; every process learns on its own).
//! - **Registered (allow-list)**: `TURNOUT_PERSISTED_QUERIES` names a manifest of the
//!   operations a production frontend was built with, and with `TURNOUT_PERSISTED_ONLY` any
//!   other operation is refused, so the API serves that frontend and nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::{Request, ServerError};
use sha2::{Digest, Sha256};

/// Queries learned through APQ that a process keeps; past this, it starts over (clients just
/// send the text again).
const MAX_LEARNED: usize = 10_000;

/// The operations registered ahead of time, and whether only they may run.
#[derive(Clone, Debug, Default)]
pub struct PersistedQueryConfig {
    /// SHA-256 (hex) → query text.
    pub registered: HashMap<String, String>,
    /// Refuse every operation that is not registered.
    pub only: bool,
}

impl PersistedQueryConfig {
    /// Reads a manifest: Apollo's (`{"format": "apollo-persisted-query-manifest", "operations":
    /// [{"id", "body"}]}`) or a plain JSON object of SHA-256 → query text. Every hash is checked
    /// against its text, so a stale manifest fails at start-up.
    pub fn from_manifest(json: &str, only: bool) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("the manifest is not JSON: {e}"))?;
        let pairs: Vec<(String, String)> = match value.get("operations") {
            Some(ops) => ops
                .as_array()
                .ok_or("`operations` must be a list")?
                .iter()
                .map(|op| {
                    let id = op["id"].as_str().ok_or("an operation has no `id`")?;
                    let body = op["body"].as_str().ok_or("an operation has no `body`")?;
                    Ok((id.to_owned(), body.to_owned()))
                })
                .collect::<Result<_, &str>>()?,
            None => value
                .as_object()
                .ok_or("the manifest must be an object of hash → query")?
                .iter()
                .map(|(hash, q)| {
                    let q = q.as_str().ok_or("every value must be a query string")?;
                    Ok((hash.clone(), q.to_owned()))
                })
                .collect::<Result<_, &str>>()?,
        };
        let mut registered = HashMap::new();
        for (hash, query) in pairs {
            let hash = hash.to_ascii_lowercase();
            if sha256_hex(&query) != hash {
                return Err(format!(
                    "the operation registered as {hash} is not the SHA-256 of its text"
                ));
            }
            registered.insert(hash, query);
        }
        Ok(Self { registered, only })
    }
}

/// The process's persisted queries: the registered ones and those learned through APQ.
#[derive(Clone, Debug, Default)]
pub(crate) struct PersistedQueries {
    config: Arc<PersistedQueryConfig>,
    learned: Arc<Mutex<HashMap<String, Arc<str>>>>,
}

impl PersistedQueries {
    pub(crate) fn new(config: PersistedQueryConfig) -> Self {
        Self {
            config: Arc::new(config),
            learned: Arc::default(),
        }
    }

    /// Fills in a hash-only request's query (or learns a new one), and in allow-list mode
    /// refuses what is not registered. The error is the one the client gets.
    pub(crate) fn resolve(&self, request: &mut Request) -> Result<(), ServerError> {
        let hash = match request.extensions.0.get("persistedQuery") {
            None => None,
            Some(ext) => Some(hash_of(ext)?),
        };
        match (hash, request.query.is_empty()) {
            (None, true) => Err(refusal("BAD_USER_INPUT", "the request has no query")),
            (None, false) => {
                if self.config.only
                    && !self
                        .config
                        .registered
                        .contains_key(&sha256_hex(&request.query))
                {
                    return Err(not_in_list());
                }
                Ok(())
            }
            (Some(hash), true) => {
                if let Some(query) = self.config.registered.get(&hash) {
                    request.query = query.clone();
                    return Ok(());
                }
                if self.config.only {
                    return Err(not_in_list());
                }
                let learned = self.learned.lock().map_err(|_| internal())?;
                match learned.get(&hash) {
                    Some(query) => {
                        request.query = query.to_string();
                        Ok(())
                    }
                    // Apollo's clients look for exactly this message, then send the query.
                    None => Err(refusal(
                        "PERSISTED_QUERY_NOT_FOUND",
                        "PersistedQueryNotFound",
                    )),
                }
            }
            (Some(hash), false) => {
                if sha256_hex(&request.query) != hash {
                    return Err(refusal(
                        "BAD_USER_INPUT",
                        "provided sha does not match query",
                    ));
                }
                if self.config.registered.contains_key(&hash) {
                    return Ok(());
                }
                if self.config.only {
                    return Err(not_in_list());
                }
                let mut learned = self.learned.lock().map_err(|_| internal())?;
                if learned.len() >= MAX_LEARNED {
                    learned.clear();
                }
                learned.insert(hash, Arc::from(request.query.as_str()));
                Ok(())
            }
        }
    }
}

fn hash_of(ext: &async_graphql::Value) -> Result<String, ServerError> {
    let async_graphql::Value::Object(ext) = ext else {
        return Err(refusal(
            "BAD_USER_INPUT",
            "extensions.persistedQuery must be an object",
        ));
    };
    match ext.get("version") {
        Some(async_graphql::Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => {
            return Err(refusal(
                "PERSISTED_QUERY_NOT_SUPPORTED",
                "only version 1 of persisted queries is supported",
            ));
        }
    }
    match ext.get("sha256Hash") {
        Some(async_graphql::Value::String(h))
            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(h.to_ascii_lowercase())
        }
        _ => Err(refusal(
            "BAD_USER_INPUT",
            "extensions.persistedQuery.sha256Hash must be 64 hex digits",
        )),
    }
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn not_in_list() -> ServerError {
    refusal(
        "PERSISTED_QUERY_NOT_IN_LIST",
        "this server runs registered operations only (TURNOUT_PERSISTED_ONLY)",
    )
}

fn internal() -> ServerError {
    refusal("INTERNAL", "internal error")
}

fn refusal(code: &str, message: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apq(hash: &str) -> Request {
        let mut r = Request::new("");
        r.extensions.0.insert(
            "persistedQuery".into(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 1, "sha256Hash": hash }),
            )
            .unwrap(),
        );
        r
    }

    fn code(err: &ServerError) -> String {
        err.extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn a_hash_is_learned_from_the_query_sent_with_it() {
        let pq = PersistedQueries::default();
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        let err = pq.resolve(&mut apq(&hash)).unwrap_err();
        assert_eq!(err.message, "PersistedQueryNotFound");
        assert_eq!(code(&err), "\"PERSISTED_QUERY_NOT_FOUND\"");

        let mut with_text = apq(&hash);
        with_text.query = query.into();
        pq.resolve(&mut with_text).unwrap();
        let mut again = apq(&hash);
        pq.resolve(&mut again).unwrap();
        assert_eq!(again.query, query);

        let mut wrong = apq(&hash);
        wrong.query = "{ me { id } }".into();
        assert_eq!(
            code(&pq.resolve(&mut wrong).unwrap_err()),
            "\"BAD_USER_INPUT\""
        );
    }

    #[test]
    fn manifests_are_checked_and_only_mode_refuses_the_rest() {
        let q = "query A { __typename }";
        let manifest = serde_json::json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha256_hex(q), "name": "A", "type": "query", "body": q }]
        });
        let config = PersistedQueryConfig::from_manifest(&manifest.to_string(), true).unwrap();
        let pq = PersistedQueries::new(config);
        let mut by_hash = apq(&sha256_hex(q));
        pq.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, q);
        pq.resolve(&mut Request::new(q)).unwrap();
        let err = pq.resolve(&mut Request::new("{ __typename }")).unwrap_err();
        assert_eq!(code(&err), "\"PERSISTED_QUERY_NOT_IN_LIST\"");

        let stale = serde_json::json!({ sha256_hex("{ a }"): "{ b }" });
        assert!(PersistedQueryConfig::from_manifest(&stale.to_string(), false).is_err());
    }
}
