//! Dispatch of one committed domain event: it becomes webhook deliveries, message jobs and
//! automation runs. Dispatch is idempotent: every step checks what an earlier, interrupted run
//! already did. When it returns, the event is processed and the next event about the same
//! subject may be dispatched.

use turnout_domain::{outbox, webhooks};
use uuid::Uuid;

use crate::handler::{Outcome, Runtime};

pub async fn dispatch(rt: &Runtime, event_id: Uuid) -> anyhow::Result<Outcome> {
    let Some(event) = outbox::get(&rt.db, event_id).await? else {
        // Its organization was deleted since; nothing to do.
        return Ok(Outcome::Done);
    };
    if event.processed_at.is_some() {
        return Ok(Outcome::Done);
    }
    let deliveries = webhooks::fan_out(&rt.db, &event).await?;
    if deliveries > 0 {
        tracing::debug!(%event_id, kind = %event.kind, deliveries, "webhook deliveries created");
    }
    outbox::mark_processed(&rt.db, event_id).await?;
    Ok(Outcome::Done)
}
