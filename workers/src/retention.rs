//! Finished jobs leave apalis' job table. apalis keeps every job it ever ran; its table (and the
//! SQLite queue file's writes) slow down as it grows, and nothing reads a finished job again:
//! Turnout keeps its own records of what a job did (automation runs, messages, deliveries,
//! dead letters). A schedule in the worker processes deletes jobs that finished (done, killed,
//! or failed their last attempt) more than [`FINISHED_JOB_RETENTION`] ago, in small batches so
//! the queue's writer lock is held only briefly. On SQLite the freed pages are reused by new
//! jobs, so the file stops growing; on PostgreSQL autovacuum reclaims them.

use std::time::Duration;

use sea_orm::sqlx;

use crate::queue::JobQueue;

/// How long a finished job stays in the queue's table (for an operator looking at apalis' own
/// tables right after something went wrong).
pub const FINISHED_JOB_RETENTION: Duration = Duration::from_secs(3600);

/// The most rows one DELETE removes.
const BATCH: i64 = 2_000;

/// The index the pruning reads by; `IF NOT EXISTS`, so every process may ask for it.
const SQLITE_INDEX: &str = "CREATE INDEX IF NOT EXISTS turnout_jobs_finished \
     ON Jobs (done_at) WHERE status IN ('Done', 'Killed', 'Failed')";
const POSTGRES_INDEX: &str = "CREATE INDEX IF NOT EXISTS turnout_jobs_finished \
     ON apalis.jobs (done_at) WHERE status IN ('Done', 'Killed', 'Failed')";

// The `status IN (…)` term repeats the index's condition word for word, which is how SQLite
// knows the partial index applies. A failed job that will be retried is not finished.
const SQLITE_DELETE: &str = "DELETE FROM Jobs WHERE rowid IN (SELECT rowid FROM Jobs \
     WHERE status IN ('Done', 'Killed', 'Failed') \
       AND (status <> 'Failed' OR attempts >= max_attempts) \
       AND done_at < unixepoch() - ?1 LIMIT ?2)";
const POSTGRES_DELETE: &str = "DELETE FROM apalis.jobs WHERE id IN (SELECT id FROM apalis.jobs \
     WHERE status IN ('Done', 'Killed', 'Failed') \
       AND (status <> 'Failed' OR attempts >= max_attempts) \
       AND done_at < now() - make_interval(secs => $1) LIMIT $2)";

impl JobQueue {
    /// Creates the index [`Self::prune_finished`] reads by.
    pub(crate) async fn create_retention_index(&self) -> Result<(), sqlx::Error> {
        match self {
            JobQueue::Sqlite(pool) => sqlx::query(SQLITE_INDEX).execute(pool).await.map(drop),
            JobQueue::Postgres(pool) => sqlx::query(POSTGRES_INDEX).execute(pool).await.map(drop),
        }
    }

    /// Deletes the jobs that finished more than `older_than` ago; returns how many.
    pub async fn prune_finished(&self, older_than: Duration) -> anyhow::Result<u64> {
        let secs = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
        let mut pruned = 0;
        loop {
            let deleted = match self {
                JobQueue::Sqlite(pool) => sqlx::query(SQLITE_DELETE)
                    .bind(secs)
                    .bind(BATCH)
                    .execute(pool)
                    .await?
                    .rows_affected(),
                JobQueue::Postgres(pool) => sqlx::query(POSTGRES_DELETE)
                    .bind(secs as f64)
                    .bind(BATCH)
                    .execute(pool)
                    .await?
                    .rows_affected(),
            };
            pruned += deleted;
            if deleted < BATCH as u64 {
                return Ok(pruned);
            }
        }
    }
}
