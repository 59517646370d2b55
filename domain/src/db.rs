//! Connecting to the database, and the one way the domain opens a write transaction.
//!
//! SQLite allows one writer at a time. A deferred transaction that reads and then writes fails
//! at once with `SQLITE_BUSY` when another writer got in between, so every write transaction
//! here begins `IMMEDIATE`: it takes the write lock up front and waits for it (busy timeout)
//! instead of failing half-way. PostgreSQL ignores the mode.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database the domain runs on: one pool, SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
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
        Ok(Self { conn })
    }

    pub fn from_connection(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// The connection for reads (and for migrations).
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
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
