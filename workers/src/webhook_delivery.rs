//! Sending one webhook delivery: sign, POST, record the answer. A failed attempt is retried
//! with backoff by queueing the job again; after the queue's last attempt the delivery is
//! marked failed (it stays in the delivery log, where it can be replayed).

use std::time::Duration;

use chrono::Utc;
use turnout_domain::webhooks::{self, Attempt};
use uuid::Uuid;

use crate::handler::{Outcome, Runtime};
use crate::jobs::Queue;
use crate::outbound::Reply;

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn deliver(rt: &Runtime, delivery_id: Uuid, attempt: u32) -> anyhow::Result<Outcome> {
    let Some(out) = webhooks::outgoing(&rt.db, delivery_id).await? else {
        return Ok(Outcome::Done);
    };
    let msg_id = format!("msg_{}", out.delivery_id.simple());
    let timestamp = Utc::now().timestamp();
    let signed = webhooks::sign(&out.secret, &msg_id, timestamp, &out.body)?;
    let timestamp = signed.timestamp.to_string();
    let headers = [
        ("content-type", "application/json"),
        (
            "user-agent",
            concat!("Turnout-Webhooks/", env!("CARGO_PKG_VERSION")),
        ),
        ("webhook-id", signed.id.as_str()),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", signed.signature.as_str()),
    ];
    let response = rt
        .outbound
        .post(&out.url, &headers, out.body, TIMEOUT)
        .await;
    let (code, body, error) = match response {
        Ok(Reply { status: code, body }) => {
            if (200..300).contains(&code) {
                webhooks::record_attempt(
                    &rt.db,
                    delivery_id,
                    Attempt::Delivered { code, body },
                    rt.config.webhook_disable_after,
                )
                .await?;
                return Ok(Outcome::Done);
            }
            (
                Some(code),
                Some(body),
                format!("the receiver answered {code}"),
            )
        }
        // No internal detail to hide here: it is the integrator's own server, or our refusal.
        Err(err) => (None, None, err.to_string()),
    };
    let next_attempt = attempt + 1;
    let retry =
        (next_attempt < Queue::Webhooks.max_attempts()).then(|| rt.config.backoff.delay(attempt));
    let disabled = webhooks::record_attempt(
        &rt.db,
        delivery_id,
        Attempt::Failed {
            code,
            body,
            error,
            next_attempt_at: retry
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d),
        },
        rt.config.webhook_disable_after,
    )
    .await?;
    if disabled {
        tracing::warn!(%delivery_id, "webhook endpoint disabled after repeated failures");
    }
    Ok(match retry {
        Some(delay) if !disabled => Outcome::Later {
            delay,
            counts: true,
        },
        _ => Outcome::Done,
    })
}
