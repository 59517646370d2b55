//! The outbox relay: turns committed `domain_events` rows into dispatch jobs, in order, and
//! hands other DB-recorded requests to the queue (webhook deliveries and replays, dead-letter
//! retries). One relay runs at a time across the cluster (see `outbox::begin_relay`).
//!
//! A crash between pushing jobs and marking rows leaves the rows unmarked, so they are pushed
//! again: jobs may arrive twice, never zero times, and every handler is idempotent.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use turnout_domain::{dead_letters, outbox, webhooks};

use crate::jobs::{Envelope, Job, Queue};
use crate::queue::JobQueue;

/// Rows moved per round; a full batch means more are waiting, so the next round starts at once.
const BATCH: u64 = 500;
/// Webhook deliveries and retry requests are looked at this often (events more often).
const SLOW_EVERY: Duration = Duration::from_millis(250);

pub struct Relay {
    pub db: turnout_domain::db::Db,
    pub queue: JobQueue,
    /// How long an idle relay waits before looking again when nothing woke it.
    pub poll: Duration,
    /// Woken when an event is committed (PostgreSQL NOTIFY).
    pub wake: Arc<Notify>,
}

impl Relay {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut last_slow = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            let moved = match self.relay_events().await {
                Ok(n) => n,
                Err(err) => {
                    tracing::error!(error = %err, "outbox relay round failed");
                    0
                }
            };
            if last_slow.elapsed() >= SLOW_EVERY {
                last_slow = tokio::time::Instant::now();
                if let Err(err) = self.relay_requests().await {
                    tracing::error!(error = %err, "relay of webhook deliveries and retries failed");
                }
            }
            if moved as u64 >= BATCH {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// One round over the outbox. Returns how many events were handed to the queue.
    pub async fn relay_events(&self) -> anyhow::Result<usize> {
        let Some(txn) = outbox::begin_relay(&self.db).await? else {
            return Ok(0);
        };
        let events = outbox::ready_to_dispatch(&txn, BATCH).await?;
        if events.is_empty() {
            txn.rollback().await?;
            return Ok(0);
        }
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        let jobs = events
            .iter()
            .map(|e| {
                Envelope::new(
                    Job::DispatchEvent { event_id: e.id },
                    Some(e.organization_id),
                )
            })
            .collect();
        self.queue.push_all(Queue::Dispatch, jobs).await?;
        outbox::mark_dispatched(&txn, &ids).await?;
        txn.commit().await?;
        Ok(ids.len())
    }

    /// Webhook deliveries created by dispatch or replay, and dead letters someone asked to
    /// retry.
    pub async fn relay_requests(&self) -> anyhow::Result<()> {
        if let Some(txn) = outbox::begin_relay(&self.db).await? {
            let deliveries = webhooks::to_enqueue(&txn, BATCH).await?;
            let ids: Vec<_> = deliveries.iter().map(|d| d.id).collect();
            let jobs = deliveries
                .iter()
                .map(|d| {
                    Envelope::new(
                        Job::DeliverWebhook { delivery_id: d.id },
                        Some(d.organization_id),
                    )
                })
                .collect();
            self.queue.push_all(Queue::Webhooks, jobs).await?;
            webhooks::mark_enqueued(&txn, &ids).await?;
            txn.commit().await?;
        }
        for dead in dead_letters::pending_retries(&self.db, BATCH).await? {
            match serde_json::from_value::<Envelope>(dead.job.clone()) {
                Ok(mut env) => {
                    env.attempt = 0;
                    self.queue.push(env, None).await?;
                }
                Err(err) => {
                    tracing::error!(id = %dead.id, error = %err, "a dead letter holds no readable job; not retried");
                }
            }
            dead_letters::mark_retried(&self.db, dead.id).await?;
        }
        Ok(())
    }
}
