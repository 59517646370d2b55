//! Dispatch of one committed domain event: it becomes webhook deliveries, message jobs and
//! automation runs. Dispatch is idempotent: every step checks what an earlier, interrupted run
//! already did. When it returns, the event is processed and the next event about the same
//! subject may be dispatched.

use turnout_domain::outbox::kinds;
use turnout_domain::{messaging, outbox, webhooks};
use uuid::Uuid;

use crate::handler::{Outcome, Runtime};
use crate::jobs::{Envelope, Job};

pub async fn dispatch(rt: &Runtime, event_id: Uuid) -> anyhow::Result<Outcome> {
    let Some(event) = outbox::get(&rt.db, event_id).await? else {
        // Its organization was deleted since; nothing to do.
        return Ok(Outcome::Done);
    };
    if event.processed_at.is_some() {
        return Ok(Outcome::Done);
    }
    // Automations first: their effects are part of what the event caused. A plugin's own
    // failure is a failed run on record, not an error here; an error means the database failed
    // and the whole dispatch is retried (runs already made are skipped by their key).
    let summary = rt.automations.run_for_event(event_id).await?;
    for run in &summary.runs {
        let status = match run.status {
            crate::automations::RunStatus::Succeeded => "succeeded",
            crate::automations::RunStatus::Failed => "failed",
            crate::automations::RunStatus::AlreadyRun => "already_run",
        };
        metrics::counter!("turnout_automation_runs_total", "status" => status).increment(1);
    }
    if !summary.runs.is_empty() {
        tracing::debug!(%event_id, kind = %event.kind, runs = summary.runs.len(), "automations ran");
    }
    let messages = messaging::notify::on_event(&rt.db, &event, &rt.config.links).await?;
    if messages > 0 {
        tracing::debug!(%event_id, kind = %event.kind, messages, "messages queued");
    }
    if event.kind == kinds::BROADCAST_STARTED {
        // Resumable: a retry after a crash skips the people who have their message already.
        messaging::broadcasts::queue(&rt.db, event.subject_id, &rt.config.links).await?;
    }
    if event.kind == kinds::MESSAGE_QUEUED {
        rt.queue
            .push(
                Envelope::new(
                    Job::DeliverMessage {
                        message_id: event.subject_id,
                    },
                    Some(event.organization_id),
                ),
                None,
            )
            .await?;
    }
    let deliveries = webhooks::fan_out(&rt.db, &event).await?;
    if deliveries > 0 {
        tracing::debug!(%event_id, kind = %event.kind, deliveries, "webhook deliveries created");
    }
    outbox::mark_processed(&rt.db, event_id).await?;
    Ok(Outcome::Done)
}
