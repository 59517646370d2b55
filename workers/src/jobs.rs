//! The jobs Turnout queues, the queues they go to, and how a failed job is tried again.
//!
//! Retries are new jobs pushed with a delay rather than sleeps inside the worker: a webhook
//! retried over hours holds no worker slot, and a crash during the wait loses nothing. The
//! attempt number travels in the job; after the last attempt the job is written to
//! `dead_letters`, where an admin can see its error and ask for a retry.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A queue, named explicitly so renaming a Rust type never strands queued jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Queue {
    /// One job per committed domain event: fan-out to automations, webhooks and messages.
    Dispatch,
    /// One job per webhook delivery attempt.
    Webhooks,
    /// One job per outgoing message.
    Messages,
}

impl Queue {
    pub const ALL: [Queue; 3] = [Queue::Dispatch, Queue::Webhooks, Queue::Messages];

    pub fn name(self) -> &'static str {
        match self {
            Queue::Dispatch => "turnout.dispatch",
            Queue::Webhooks => "turnout.webhooks",
            Queue::Messages => "turnout.messages",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }

    /// Attempts before a job of this queue is dead-lettered.
    pub fn max_attempts(self) -> u32 {
        match self {
            Queue::Dispatch => 8,
            // A receiver may be down for hours; with a one-hour cap this spans about a day.
            Queue::Webhooks => 15,
            Queue::Messages => 8,
        }
    }
}

/// What a job does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    DispatchEvent { event_id: Uuid },
    DeliverWebhook { delivery_id: Uuid },
    DeliverMessage { message_id: Uuid },
}

impl Job {
    pub fn queue(&self) -> Queue {
        match self {
            Job::DispatchEvent { .. } => Queue::Dispatch,
            Job::DeliverWebhook { .. } => Queue::Webhooks,
            Job::DeliverMessage { .. } => Queue::Messages,
        }
    }
}

/// A job and how many times it has failed so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub job: Job,
    #[serde(default)]
    pub attempt: u32,
    /// The organization the job works for, so its dead letter is visible to that
    /// organization's admins.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
}

impl Envelope {
    pub fn new(job: Job, organization_id: Option<Uuid>) -> Self {
        Self {
            job,
            attempt: 0,
            organization_id,
        }
    }
}

/// Exponential backoff with jitter: attempt `n` (0-based) waits a random time between half and
/// all of `base · 2ⁿ`, capped at `cap`. The jitter spreads retries of a burst that failed
/// together.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(30));
        let full = self.base.saturating_mul(factor).min(self.cap);
        let half = full / 2;
        let jitter_ms = rand::rng().random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for attempt in 0..20 {
            let d = b.delay(attempt);
            let full = (Duration::from_millis(100) * 2u32.pow(attempt.min(10))).min(b.cap);
            assert!(
                d >= full / 2 && d <= full + Duration::from_millis(1),
                "{attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn jobs_round_trip_with_their_queue() {
        let env = Envelope::new(
            Job::DeliverWebhook {
                delivery_id: Uuid::nil(),
            },
            None,
        );
        let json = serde_json::to_value(&env).expect("serialize");
        assert_eq!(json["job"]["type"], "deliver_webhook");
        let back: Envelope = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, env);
        assert_eq!(back.job.queue().name(), "turnout.webhooks");
        assert_eq!(Queue::from_name("turnout.webhooks"), Some(Queue::Webhooks));
    }
}
