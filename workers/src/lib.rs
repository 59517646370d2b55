//! Background work on apalis: the outbox relay, dispatch of every domain event, webhook
//! delivery, shift reminders and the missed-shift sweep. Any number of worker processes may run
//! against one PostgreSQL database; the embedded mode runs them inside the one process.

pub mod automations;
mod dispatch;
mod handler;
pub mod jobs;
pub mod messaging;
pub mod outbound;
pub mod queue;
mod relay;
pub mod retention;
pub mod schedule;
mod webhook_delivery;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::DatabaseBackend;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use turnout_domain::db::Db;

pub use handler::{Outcome, Runtime};
pub use jobs::{Backoff, Envelope, Job, Queue};
pub use queue::JobQueue;
pub use relay::Relay;

/// The relay's fallback poll on PostgreSQL, where NOTIFY wakes it on every commit.
const POSTGRES_RELAY_POLL: Duration = Duration::from_millis(500);

/// How the workers of a process behave.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Jobs run at once per queue in this process.
    pub concurrency: usize,
    /// How long an idle relay waits before it looks at the outbox again (PostgreSQL also wakes
    /// it on every commit).
    pub relay_poll: Duration,
    /// Retry timing of failed jobs.
    pub backoff: Backoff,
    /// Failed attempts in a row after which a webhook endpoint is disabled.
    pub webhook_disable_after: i32,
    /// How long after a shift ends its unchecked RSVPs become no-shows.
    pub missed_shift_grace: chrono::Duration,
    /// Run the cron schedules (reminders, missed shifts) in this process.
    pub schedules: bool,
    /// Names this process's workers in the queue tables (unique per process).
    pub worker_id: String,
    /// Where webhook deliveries may go: public addresses and the operator's allow-list.
    pub outbound: turnout_domain::outbound::OutboundPolicy,
    /// The origin of the links messages carry (`TURNOUT_PUBLIC_BASE_URL`); `serve` sets it.
    pub links: turnout_domain::links::PublicLinks,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 8,
            relay_poll: Duration::from_millis(20),
            backoff: Backoff::default(),
            webhook_disable_after: 20,
            missed_shift_grace: chrono::Duration::hours(1),
            schedules: true,
            worker_id: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
            outbound: Default::default(),
            links: Default::default(),
        }
    }
}

/// The running workers of a process.
pub struct Workers {
    tasks: JoinSet<()>,
    queue: JobQueue,
}

impl Workers {
    /// Opens the job queue and starts the relay, one worker per queue and the schedules; they
    /// stop when `shutdown` turns true, letting running jobs finish.
    pub async fn start(
        db: Db,
        database_url: &str,
        config: WorkerConfig,
        messaging: &messaging::MessagingConfig,
        plugin_host: Arc<turnout_plugin_host::PluginHost>,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let queue = JobQueue::open(&db, database_url).await?;
        let outbound = outbound::OutboundClient::new(config.outbound.clone())?;
        let runtime = Arc::new(Runtime {
            db: db.clone(),
            queue: queue.clone(),
            config: config.clone(),
            outbound,
            automations: automations::AutomationRunner::new(db.clone(), plugin_host),
            messenger: messaging::Messenger::new(messaging)
                .context("the messaging configuration is not valid")?
                .with_links(config.links.clone()),
        });
        let mut tasks = JoinSet::new();
        let wake = Arc::new(Notify::new());
        if db.backend() == DatabaseBackend::Postgres {
            tasks.spawn(listen_for_events(
                db.clone(),
                wake.clone(),
                shutdown.clone(),
            ));
        }
        let relay = Relay {
            db: db.clone(),
            queue: queue.clone(),
            // On PostgreSQL every commit wakes the relay (NOTIFY); polling is only the fallback.
            poll: if db.backend() == DatabaseBackend::Postgres {
                config.relay_poll.max(POSTGRES_RELAY_POLL)
            } else {
                config.relay_poll
            },
            wake,
        };
        tasks.spawn(relay.run(shutdown.clone()));
        for q in Queue::ALL {
            tasks.spawn(supervise_queue_worker(
                queue.clone(),
                q,
                config.worker_id.clone(),
                config.concurrency,
                runtime.clone(),
                shutdown.clone(),
            ));
        }
        if config.schedules {
            for s in schedule::Schedule::ALL {
                let name = format!("{}@{}", s.name(), config.worker_id);
                let rt = runtime.clone();
                let stop = stopped(shutdown.clone());
                tasks.spawn(async move {
                    if let Err(err) = schedule::run_schedule(rt, s, name, stop).await {
                        tracing::error!(schedule = s.name(), error = %format!("{err:#}"), "schedule ended with an error");
                    }
                });
            }
        }
        tracing::info!(worker_id = %config.worker_id, "workers started");
        Ok(Self { tasks, queue })
    }

    /// The job queue these workers pull from (for its depth in `/metrics`).
    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }

    /// Waits for the workers to finish after shutdown was signalled.
    pub async fn join(mut self) {
        while let Some(res) = self.tasks.join_next().await {
            if let Err(err) = res {
                tracing::error!(%err, "worker task failed");
            }
        }
        tracing::info!("workers stopped");
    }
}

/// Runs the worker of one queue until shutdown, starting it again (under a new name, so its
/// old registration's jobs are taken over) if it ever stops on its own: a queue must not go
/// quiet while the process looks healthy.
async fn supervise_queue_worker(
    queue: JobQueue,
    q: Queue,
    worker_id: String,
    concurrency: usize,
    runtime: Arc<Runtime>,
    shutdown: watch::Receiver<bool>,
) {
    for generation in 0u32.. {
        let name = format!("{}@{}.{generation}", q.name(), worker_id);
        let result = queue
            .run_worker(
                q,
                name,
                concurrency,
                runtime.clone(),
                stopped(shutdown.clone()),
            )
            .await;
        if *shutdown.borrow() {
            return;
        }
        match result {
            Ok(()) => tracing::error!(
                queue = q.name(),
                "queue worker stopped by itself; restarting"
            ),
            Err(err) => {
                tracing::error!(queue = q.name(), error = %format!("{err:#}"), "queue worker failed; restarting")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Resolves when `shutdown` turns true (or its sender is gone).
fn stopped(mut shutdown: watch::Receiver<bool>) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        loop {
            let stop = *shutdown.borrow_and_update();
            if stop || shutdown.changed().await.is_err() {
                break;
            }
        }
    })
}

/// Wakes the relay on every committed event (PostgreSQL NOTIFY from the outbox trigger), so
/// commit-to-job latency does not wait for a poll.
async fn listen_for_events(db: Db, wake: Arc<Notify>, shutdown: watch::Receiver<bool>) {
    let pool = db.conn().get_postgres_connection_pool().clone();
    let mut stop = std::pin::pin!(stopped(shutdown));
    loop {
        let mut listener = match apalis_postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!(error = %err, "cannot LISTEN for outbox events; relying on polling");
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => continue,
                }
            }
        };
        if let Err(err) = listener.listen("turnout_domain_events").await {
            tracing::warn!(error = %err, "cannot LISTEN for outbox events; relying on polling");
        }
        loop {
            tokio::select! {
                _ = &mut stop => return,
                msg = listener.recv() => match msg {
                    Ok(_) => wake.notify_one(),
                    Err(err) => {
                        tracing::warn!(error = %err, "outbox LISTEN connection lost; reconnecting");
                        break;
                    }
                }
            }
        }
    }
}
