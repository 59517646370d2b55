//! Verified credentials, remembered for a few seconds, so that a request does not read
//! `api_keys` (or a user's membership) before it can do anything else.
//!
//! Revocation stays immediate. Every change that can take a right away (a revoked key, a
//! changed role, a removed member, a suspended organization) commits through
//! [`commit_change`], which empties this process's cache and, on PostgreSQL, NOTIFYs
//! [`NOTIFY_CHANNEL`] in the same transaction, so every other API process empties its own when
//! the change commits. Only what was verified is remembered: a refused credential is read
//! again on its next try, so a new key or membership works at once.
//!
//! Trust: on SQLite every credential change of a database happens in the one server process
//! that serves it, so the cache is always used. On PostgreSQL it is used only while
//! [`watch`] is LISTENing; before the LISTEN is up, or after its connection fails, every request
//! reads the database as if there were no cache.
//!
//! A hand-written map rather than a caching crate: what matters here is the generation fence
//! (a lookup that began before a change never stores what it read), which no cache offers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, Statement};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::DomainResult;

/// How long a verified credential is used without reading it again. It bounds the staleness
/// of anything not committed through [`commit_change`] (such as a key's `last_used_at`, which
/// is written only when the key is read).
pub const TTL: Duration = Duration::from_secs(30);

/// The most credentials remembered; a full cache starts again empty.
const MAX_ENTRIES: usize = 10_000;

/// The PostgreSQL channel a credential change NOTIFYs when it commits.
pub const NOTIFY_CHANNEL: &str = "turnout_credentials";

/// How long [`watch`] waits before it tries to LISTEN again after a failure.
const RETRY: Duration = Duration::from_secs(2);

/// What a credential is remembered by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// The SHA-256 of a whole API key (the key itself is never kept).
    ApiKey([u8; 32]),
    /// A user acting in an organization, whose access token is verified on every request.
    User { user_id: Uuid, org_id: Uuid },
}

#[derive(Debug)]
struct Entry {
    principal: Principal,
    generation: u64,
    until: Instant,
}

/// The cache of one [`Db`], shared by its clones.
#[derive(Debug)]
pub struct CredentialCache {
    /// Bumped by every credential change; entries and lookups of an older generation are void.
    generation: AtomicU64,
    /// Whether the cache may be used at all (see the module's notes on trust).
    trusted: AtomicBool,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl CredentialCache {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(backend == DatabaseBackend::Sqlite),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The generation to hand back to [`Self::put`]; `None` while the cache is not trusted.
    pub(crate) fn begin_lookup(&self) -> Option<u64> {
        self.trusted
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// The remembered principal of `key`, if it is still good.
    pub(crate) fn get(&self, key: &Key) -> Option<Principal> {
        let generation = self.begin_lookup()?;
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.until > Instant::now())
            .then(|| entry.principal.clone())
    }

    /// Remembers what a lookup that began at `generation` verified, until the TTL or
    /// `expires_at` (a key's own expiry), whichever is sooner. Nothing is stored when a
    /// credential changed since the lookup began.
    pub(crate) fn put(
        &self,
        key: Key,
        principal: &Principal,
        generation: Option<u64>,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let Some(generation) = generation else {
            return;
        };
        let mut ttl = TTL;
        if let Some(at) = expires_at {
            let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            ttl = ttl.min(left);
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock that `forget_all` takes too, so a change cannot slip between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                principal: principal.clone(),
                generation,
                until: Instant::now() + ttl,
            },
        );
    }

    /// Forgets every credential: something that grants or takes rights changed.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn set_trusted(&self, trusted: bool) {
        self.trusted.store(trusted, Ordering::Release);
        self.forget_all();
    }
}

/// Commits `tx`, which changed who may do what, and makes every API process forget the
/// credentials it verified. On PostgreSQL the NOTIFY is part of `tx`, so it is sent exactly
/// when the change commits.
pub(crate) async fn commit_change(db: &Db, tx: DatabaseTransaction) -> DomainResult<()> {
    if db.backend() == DatabaseBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, '')",
            [NOTIFY_CHANNEL.into()],
        ))
        .await?;
    }
    tx.commit().await?;
    db.credentials().forget_all();
    Ok(())
}

/// On PostgreSQL, LISTENs for other processes' credential changes for as long as `db`'s cache
/// lives, and trusts the cache only while it does. Nothing to do on SQLite. Call it inside a
/// Tokio runtime, once per process that authenticates requests.
pub fn watch(db: &Db) {
    if db.backend() != DatabaseBackend::Postgres || tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let pool = db.conn().get_postgres_connection_pool().clone();
    tokio::spawn(listen(pool, Arc::downgrade(db.credentials_arc())));
}

async fn listen(pool: sea_orm::sqlx::PgPool, cache: Weak<CredentialCache>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(NOTIFY_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = match listening.await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(%err, "credential cache: LISTEN failed; reading every credential");
                tokio::time::sleep(RETRY).await;
                if cache.strong_count() == 0 {
                    return;
                }
                continue;
            }
        };
        let Some(alive) = cache.upgrade() else { return };
        alive.set_trusted(true);
        drop(alive);
        loop {
            // Wakes now and then to notice that the cache (its `Db`) is gone.
            let received = tokio::time::timeout(Duration::from_secs(10), listener.try_recv()).await;
            let Some(alive) = cache.upgrade() else { return };
            match received {
                Err(_idle) => {}
                // A change committed somewhere, or the connection was lost and re-established
                // (what was sent meanwhile is lost): forget either way.
                Ok(Ok(_)) => alive.forget_all(),
                Ok(Err(err)) => {
                    tracing::warn!(%err, "credential cache: LISTEN lost; reading every credential");
                    alive.set_trusted(false);
                    break;
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Actor, Scope};

    fn principal() -> Principal {
        Principal::for_tests(
            Uuid::now_v7(),
            Actor::ApiKey(Uuid::now_v7()),
            vec![Scope::PeopleRead],
        )
    }

    fn key() -> Key {
        Key::ApiKey([7; 32])
    }

    #[test]
    fn a_verified_credential_is_remembered_until_a_change() {
        let cache = CredentialCache::new(DatabaseBackend::Sqlite);
        let generation = cache.begin_lookup();
        cache.put(key(), &principal(), generation, None);
        assert!(cache.get(&key()).is_some());
        cache.forget_all();
        assert!(cache.get(&key()).is_none());
    }

    #[test]
    fn a_lookup_that_began_before_a_change_stores_nothing() {
        let cache = CredentialCache::new(DatabaseBackend::Sqlite);
        let generation = cache.begin_lookup();
        cache.forget_all();
        cache.put(key(), &principal(), generation, None);
        assert!(cache.get(&key()).is_none());
    }

    #[test]
    fn an_expired_key_is_not_remembered_past_its_expiry() {
        let cache = CredentialCache::new(DatabaseBackend::Sqlite);
        let generation = cache.begin_lookup();
        let past = Utc::now() - chrono::Duration::seconds(1);
        cache.put(key(), &principal(), generation, Some(past));
        assert!(cache.get(&key()).is_none());
    }

    #[test]
    fn on_postgres_nothing_is_used_until_the_listen_is_up() {
        let cache = CredentialCache::new(DatabaseBackend::Postgres);
        assert_eq!(cache.begin_lookup(), None);
        cache.put(key(), &principal(), cache.begin_lookup(), None);
        assert!(cache.get(&key()).is_none());
        cache.set_trusted(true);
        cache.put(key(), &principal(), cache.begin_lookup(), None);
        assert!(cache.get(&key()).is_some());
        cache.set_trusted(false);
        assert!(cache.get(&key()).is_none());
    }
}
