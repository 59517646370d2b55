//! The apalis job queue: apalis-sqlite in the embedded mode (in its own file beside the
//! database, so apalis' PRAGMAs and write traffic stay off the CRM's file), apalis-postgres in
//! the CRM's PostgreSQL database (schema `apalis`) when running on PostgreSQL, so many worker
//! processes on many machines pull from one queue.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use apalis::prelude::{
    BackendExt, BoxDynError, Data, Strategy, TaskBuilder, TaskSink, WorkerBuilder, WorkerBuilderExt,
};
use apalis_postgres::PostgresStorage;
use apalis_sqlite::{SqlitePool, SqliteStorage};
use sea_orm::DatabaseBackend;
use turnout_domain::db::Db;

use crate::handler::Runtime;
use crate::jobs::{Envelope, Queue};

/// How often an idle SQLite worker looks for new jobs (PostgreSQL workers are woken by
/// LISTEN/NOTIFY instead).
const SQLITE_POLL: Duration = Duration::from_millis(20);
/// How often a PostgreSQL worker looks for delayed jobs that came due.
const DELAYED_JOB_POLL: Duration = Duration::from_millis(250);

/// Where jobs are stored.
#[derive(Clone, Debug)]
pub enum JobQueue {
    Sqlite(SqlitePool),
    Postgres(apalis_postgres::PgPool),
}

impl JobQueue {
    /// Opens the queue that goes with `db` (whose URL is `database_url`) and creates its tables.
    pub async fn open(db: &Db, database_url: &str) -> anyhow::Result<Self> {
        match db.backend() {
            DatabaseBackend::Postgres => {
                let pool = db.conn().get_postgres_connection_pool().clone();
                setup_with_retries("PostgreSQL", || PostgresStorage::<()>::setup(&pool)).await?;
                let queue = JobQueue::Postgres(pool);
                setup_with_retries("PostgreSQL", || queue.create_retention_index()).await?;
                Ok(queue)
            }
            _ => {
                let url = sqlite_queue_url(database_url)?;
                // apalis' setup switches `synchronous` OFF on the connection it runs on; run it
                // on a throwaway pool, then open the real one with durable settings.
                let setup = sqlite_pool(&url, 1).await?;
                setup_with_retries("SQLite", || SqliteStorage::setup(&setup)).await?;
                setup.close().await;
                let queue = JobQueue::Sqlite(sqlite_pool(&url, 8).await?);
                setup_with_retries("SQLite", || queue.create_retention_index()).await?;
                Ok(queue)
            }
        }
    }

    /// Queues a job, to run after `delay` when given.
    pub async fn push(&self, env: Envelope, delay: Option<Duration>) -> anyhow::Result<()> {
        let queue = env.job.queue();
        let mut task = TaskBuilder::new(env);
        if let Some(delay) = delay {
            task = task.run_after(delay);
        }
        let task = task.build();
        match self {
            JobQueue::Sqlite(pool) => sqlite_storage(pool, queue)
                .push_task(task)
                .await
                .map_err(|e| anyhow::anyhow!("cannot queue a {} job: {e}", queue.name())),
            JobQueue::Postgres(pool) => pg_storage(pool, queue)
                .push_task(task)
                .await
                .map_err(|e| anyhow::anyhow!("cannot queue a {} job: {e}", queue.name())),
        }
    }

    /// Queues many jobs of one queue at once.
    pub async fn push_all(&self, queue: Queue, envs: Vec<Envelope>) -> anyhow::Result<()> {
        if envs.is_empty() {
            return Ok(());
        }
        match self {
            JobQueue::Sqlite(pool) => sqlite_storage(pool, queue)
                .push_bulk(envs)
                .await
                .map_err(|e| anyhow::anyhow!("cannot queue {} jobs: {e}", queue.name())),
            JobQueue::Postgres(pool) => pg_storage(pool, queue)
                .push_bulk(envs)
                .await
                .map_err(|e| anyhow::anyhow!("cannot queue {} jobs: {e}", queue.name())),
        }
    }

    /// Runs a worker for `queue` until `stop` resolves; in-flight jobs finish first.
    pub async fn run_worker(
        &self,
        queue: Queue,
        name: String,
        concurrency: usize,
        runtime: Arc<Runtime>,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = async move {
            stop.await;
            Ok::<(), std::io::Error>(())
        };
        match self {
            JobQueue::Sqlite(pool) => {
                let storage = sqlite_storage(pool, queue).poll_with_interval(SQLITE_POLL);
                WorkerBuilder::new(name)
                    .backend(storage)
                    .data(runtime)
                    .concurrency(concurrency)
                    .build(handle_job)
                    .run_until(stop)
                    .await?;
            }
            JobQueue::Postgres(pool) => {
                // NOTIFY wakes the worker for new jobs at once; the interval catches jobs that
                // were queued with a delay (retries) when their time comes.
                let strategy = Strategy::new()
                    .stream(apalis_postgres::Pubsub::new(
                        pool.clone(),
                        queue.name().to_owned(),
                    ))
                    .interval(DELAYED_JOB_POLL);
                let storage = pg_storage(pool, queue).poll_with_strategy(strategy);
                WorkerBuilder::new(name)
                    .backend(storage)
                    .data(runtime)
                    .concurrency(concurrency)
                    .build(handle_job)
                    .run_until(stop)
                    .await?;
            }
        }
        Ok(())
    }
}

/// One queue's backlog at a moment.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueDepth {
    pub queue: Queue,
    /// Jobs whose time has come, waiting for a worker.
    pub due: u64,
    /// Jobs waiting for a later time (retries with backoff, messages held for quiet hours).
    pub scheduled: u64,
    /// Jobs a worker holds.
    pub running: u64,
    /// How long the oldest due job has waited, in seconds (0 when none is due).
    pub oldest_due_seconds: f64,
}

impl JobQueue {
    /// Every queue's backlog, in one statement over apalis' job table (its indexes on
    /// (job_type, status, run_at) serve it). Queues without jobs are reported with zeros.
    pub async fn depths(&self) -> anyhow::Result<Vec<QueueDepth>> {
        // (job_type, due, scheduled, running, oldest due age in seconds)
        type Row = (String, i64, i64, i64, Option<f64>);
        let rows: Vec<Row> = match self {
            JobQueue::Sqlite(pool) => {
                sea_orm::sqlx::query_as(
                    "SELECT job_type, \
                       SUM(status = 'Pending' AND run_at <= unixepoch()), \
                       SUM(status = 'Pending' AND run_at > unixepoch()), \
                       SUM(status IN ('Queued', 'Running')), \
                       CAST(unixepoch() - MIN(CASE WHEN status = 'Pending' \
                         AND run_at <= unixepoch() THEN run_at END) AS REAL) \
                     FROM Jobs WHERE status IN ('Pending', 'Queued', 'Running') \
                     GROUP BY job_type",
                )
                .fetch_all(pool)
                .await?
            }
            JobQueue::Postgres(pool) => {
                sea_orm::sqlx::query_as(
                    "SELECT job_type, \
                       COUNT(*) FILTER (WHERE status = 'Pending' AND run_at <= now()), \
                       COUNT(*) FILTER (WHERE status = 'Pending' AND run_at > now()), \
                       COUNT(*) FILTER (WHERE status IN ('Queued', 'Running')), \
                       EXTRACT(EPOCH FROM now() - MIN(run_at) FILTER \
                         (WHERE status = 'Pending' AND run_at <= now()))::float8 \
                     FROM apalis.jobs WHERE status IN ('Pending', 'Queued', 'Running') \
                     GROUP BY job_type",
                )
                .fetch_all(pool)
                .await?
            }
        };
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Queue::ALL
            .into_iter()
            .map(|queue| {
                let row = rows.iter().find(|r| r.0 == queue.name());
                QueueDepth {
                    queue,
                    due: row.map_or(0, |r| count(r.1)),
                    scheduled: row.map_or(0, |r| count(r.2)),
                    running: row.map_or(0, |r| count(r.3)),
                    oldest_due_seconds: row.and_then(|r| r.4).unwrap_or(0.0).max(0.0),
                }
            })
            .collect())
    }
}

/// Creates the queue's tables. Processes starting together race to do it; the loser of a race
/// (a duplicate migration row) tries again and finds the work done.
async fn setup_with_retries<F, Fut, E>(backend: &str, mut setup: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut tries = 0u64;
    loop {
        match setup().await {
            Ok(()) => return Ok(()),
            Err(err) if tries < 4 => {
                tries += 1;
                tracing::warn!(error = %err, "setting up the job tables failed; retrying");
                tokio::time::sleep(Duration::from_millis(250 * tries)).await;
            }
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot set up the apalis job tables in {backend}"));
            }
        }
    }
}

/// The apalis handler of every queue.
async fn handle_job(env: Envelope, runtime: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    runtime.finish(env).await.map_err(Into::into)
}

/// Heartbeats every 2 s; a worker silent for 3 of them is presumed dead and its jobs are taken
/// over (so a killed worker's job is resumed within seconds, not minutes).
const HEARTBEAT: Duration = Duration::from_secs(2);
const MISSED_HEARTBEATS: usize = 3;

fn sqlite_storage(pool: &SqlitePool, queue: Queue) -> SqliteStorage<Envelope> {
    SqliteStorage::new(pool).with_config(
        apalis_sqlite::Config::default()
            .queue(queue.name())
            .heartbeat_interval(HEARTBEAT)
            .missed_heartbeats(MISSED_HEARTBEATS),
    )
}

fn pg_storage(pool: &apalis_postgres::PgPool, queue: Queue) -> PostgresStorage<Envelope> {
    PostgresStorage::new(pool).with_config(
        apalis_postgres::Config::default()
            .queue(queue.name())
            .heartbeat_interval(HEARTBEAT)
            .missed_heartbeats(MISSED_HEARTBEATS),
    )
}

async fn sqlite_pool(url: &str, max: u32) -> anyhow::Result<SqlitePool> {
    use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let opts: SqliteConnectOptions = url
        .parse()
        .with_context(|| format!("bad job queue URL {url}"))?;
    let opts = opts
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(max)
        .connect_with(opts)
        .await
        .with_context(|| format!("cannot open the job queue at {url}"))
}

/// The queue's SQLite file: `turnout.db` → `turnout.jobs.db`, same directory and options.
pub fn sqlite_queue_url(database_url: &str) -> anyhow::Result<String> {
    let (path, query) = match database_url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (database_url, None),
    };
    if path.contains(":memory:") || path.ends_with("sqlite:") || path.ends_with("sqlite://") {
        anyhow::bail!("an in-memory database has no file to put the job queue beside");
    }
    let jobs = jobs_name(path);
    Ok(match query {
        Some(q) => format!("{jobs}?{q}"),
        None => jobs,
    })
}

/// The queue file beside a SQLite database file (`turnout.db` → `turnout.jobs.db`): what a
/// backup copies along with the database.
pub fn queue_file_beside(database_file: &std::path::Path) -> std::path::PathBuf {
    jobs_name(&database_file.to_string_lossy()).into()
}

fn jobs_name(path: &str) -> String {
    match path.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => format!("{stem}.jobs.{ext}"),
        _ => format!("{path}.jobs"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_file_sits_beside_the_database() {
        assert_eq!(
            sqlite_queue_url("sqlite://data/turnout.db?mode=rwc").expect("url"),
            "sqlite://data/turnout.jobs.db?mode=rwc"
        );
        assert_eq!(
            sqlite_queue_url("sqlite:///tmp/x/turnout").expect("url"),
            "sqlite:///tmp/x/turnout.jobs"
        );
        assert!(sqlite_queue_url("sqlite::memory:").is_err());
    }
}
