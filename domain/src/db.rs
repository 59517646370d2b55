//! Connecting to the database, and the one way the domain opens a write transaction.
//!
//! SQLite allows one writer at a time. A deferred transaction that reads and then writes fails
//! at once with `SQLITE_BUSY` when another writer got in between, so every write transaction
//! here begins `IMMEDIATE`: it takes the write lock up front and waits for it (busy timeout)
//! instead of failing half-way. PostgreSQL ignores the mode.

use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::credential_cache::CredentialCache;

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection pool's use at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// Connections open, idle or in use.
    pub open: u32,
    /// Open connections nobody holds.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// The database the domain runs on: one pool, SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    credentials: Arc<CredentialCache>,
}

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) with pool sizes and, on
    /// SQLite, the PRAGMAs every connection needs (WAL, foreign keys, a busy timeout).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .create_if_missing(true)
            });
        let conn = sea_orm::Database::connect(opts).await?;
        Ok(Self::from_connection(conn))
    }

    pub fn from_connection(conn: DatabaseConnection) -> Self {
        let credentials = Arc::new(CredentialCache::new(conn.get_database_backend()));
        Self { conn, credentials }
    }

    /// The credentials this process verified lately, shared by the clones of this `Db`.
    pub fn credentials(&self) -> &CredentialCache {
        &self.credentials
    }

    pub(crate) fn credentials_arc(&self) -> &Arc<CredentialCache> {
        &self.credentials
    }

    /// The connection for reads (and for migrations).
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// How the connection pool is used right now (for `/metrics`).
    pub fn pool_use(&self) -> PoolUse {
        let (size, idle, max) = match self.backend() {
            DatabaseBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
        };
        PoolUse {
            open: size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max,
        }
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Checks that the database answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }

    /// Writes a consistent copy of this SQLite database to `file`, which must not exist, while
    /// other connections go on reading and writing. `VACUUM INTO` reads inside one read
    /// transaction, so the copy is the database as of one moment (WAL included) and writers
    /// are not blocked. PostgreSQL has `pg_dump` for this, and is refused.
    pub async fn backup_into(&self, file: &Path) -> Result<(), DbErr> {
        if self.backend() != DatabaseBackend::Sqlite {
            return Err(DbErr::Custom(
                "an online backup is for SQLite; use pg_dump for PostgreSQL".into(),
            ));
        }
        let target = file
            .to_str()
            .ok_or_else(|| DbErr::Custom(format!("the path {} is not UTF-8", file.display())))?;
        self.conn
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }

    /// SQLite's own check of every page and index: empty when the file is sound, otherwise
    /// what is wrong with it.
    pub async fn integrity_problems(&self) -> Result<Vec<String>, DbErr> {
        let rows = self
            .conn
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?;
        let mut problems = Vec::new();
        for row in rows {
            let line: String = row.try_get_by_index(0)?;
            if line != "ok" {
                problems.push(line);
            }
        }
        Ok(problems)
    }
}

/// The file a SQLite URL (`sqlite://turnout.db?mode=rwc`) points at; `None` for PostgreSQL and
/// for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    let file = opts.get_filename();
    (!file.as_os_str().is_empty() && !file.to_string_lossy().contains(":memory:"))
        .then(|| file.to_path_buf())
}

/// True when `err` is a unique-constraint violation: the loser of a race to insert the same
/// natural key. Callers retry so that the second attempt finds the winner's row.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// `Taken` on `field` when `err` is a unique violation (the value is already used); any other
/// database error as it is.
pub(crate) fn taken_if_unique(err: DbErr, field: &str, message: &str) -> crate::DomainError {
    if is_unique_violation(&err) {
        crate::DomainError::taken(field, message)
    } else {
        err.into()
    }
}
