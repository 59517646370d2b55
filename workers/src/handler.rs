//! What happens to one job: run it, then on failure queue it again with backoff, or after its
//! last attempt write it to `dead_letters`.

use std::time::Duration;

use chrono::Utc;
use turnout_domain::db::Db;
use turnout_domain::dead_letters::{self, NewDeadLetter};

use crate::WorkerConfig;
use crate::automations::AutomationRunner;
use crate::jobs::{Envelope, Job};
use crate::messaging::{Delivery, Messenger};
use crate::queue::JobQueue;
use crate::{dispatch, webhook_delivery};

/// The longest one job may run.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// How a job ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Try again later; `counts` says whether this was a failed attempt (a webhook answered
    /// 500) or only a wait (a message held for quiet hours).
    Later {
        delay: Duration,
        counts: bool,
    },
}

/// Everything a job may need.
pub struct Runtime {
    pub db: Db,
    pub queue: JobQueue,
    pub config: WorkerConfig,
    /// The one client for URLs users gave (SSRF-guarded).
    pub outbound: crate::outbound::OutboundClient,
    pub automations: AutomationRunner,
    pub messenger: Messenger,
}

impl Runtime {
    /// Runs one job; it errs only when the job could be neither finished, re-queued nor
    /// dead-lettered (then apalis keeps it and tries again).
    pub async fn finish(&self, env: Envelope) -> anyhow::Result<()> {
        let queue = env.job.queue();
        let started = std::time::Instant::now();
        // A job that hangs (a stuck connection, a provider that never answers) must not hold
        // a worker slot forever: it fails and is retried like any other failure.
        let outcome = match tokio::time::timeout(JOB_TIMEOUT, self.execute(&env)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow::anyhow!(
                "the job did not finish within {} s",
                JOB_TIMEOUT.as_secs()
            )),
        };
        metrics::histogram!("turnout_job_duration_seconds", "queue" => queue.name())
            .record(started.elapsed());
        let counted = |outcome: &'static str| {
            metrics::counter!("turnout_jobs_total", "queue" => queue.name(), "outcome" => outcome)
                .increment(1);
        };
        match outcome {
            Ok(Outcome::Done) => {
                counted("done");
                Ok(())
            }
            Ok(Outcome::Later { delay, counts }) => {
                counted(if counts { "retried" } else { "waiting" });
                let mut next = env;
                if counts {
                    next.attempt += 1;
                }
                self.queue.push(next, Some(delay)).await
            }
            Err(err) => {
                let attempt = env.attempt + 1;
                if attempt < queue.max_attempts() {
                    counted("retried");
                    let delay = self.config.backoff.delay(env.attempt);
                    tracing::warn!(queue = queue.name(), attempt, ?delay, error = %format!("{err:#}"), "job failed; will retry");
                    let mut next = env;
                    next.attempt = attempt;
                    self.queue.push(next, Some(delay)).await
                } else {
                    counted("dead_lettered");
                    tracing::error!(queue = queue.name(), attempt, error = %format!("{err:#}"), "job failed its last attempt; dead-lettered");
                    if let Job::DeliverMessage { message_id } = &env.job {
                        // Not `queued` forever: the message shows that it failed.
                        turnout_domain::messaging::delivery::give_up(
                            &self.db,
                            *message_id,
                            &format!("{err:#}"),
                        )
                        .await?;
                    }
                    dead_letters::record(
                        &self.db,
                        NewDeadLetter {
                            organization_id: env.organization_id,
                            queue: queue.name(),
                            job: serde_json::to_value(&env)?,
                            error: &format!("{err:#}"),
                            attempts: attempt as i32,
                        },
                    )
                    .await?;
                    Ok(())
                }
            }
        }
    }

    async fn execute(&self, env: &Envelope) -> anyhow::Result<Outcome> {
        let started = Utc::now();
        let outcome = match &env.job {
            Job::DispatchEvent { event_id } => dispatch::dispatch(self, *event_id).await,
            Job::DeliverWebhook { delivery_id } => {
                webhook_delivery::deliver(self, *delivery_id, env.attempt).await
            }
            Job::DeliverMessage { message_id } => {
                match self.messenger.deliver(&self.db, *message_id).await? {
                    Delivery::Deferred(at) => Ok(Outcome::Later {
                        delay: (at - Utc::now()).to_std().unwrap_or_default(),
                        counts: false,
                    }),
                    Delivery::Sent
                    | Delivery::AlreadyDone
                    | Delivery::Blocked(_)
                    | Delivery::Unknown(_) => Ok(Outcome::Done),
                }
            }
        };
        tracing::debug!(job = ?env.job, took_ms = (Utc::now() - started).num_milliseconds(), "job ran");
        outcome
    }
}
