//! Effects on messaging: queue a message through the messaging domain (templates, consent,
//! the `message.queued` event the workers deliver from). Its idempotency key is derived from
//! (event, automation, effect index), so it exists once.
//! SMS and WhatsApp need the person's consent; nobody is texted who did not agree.

use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::{ApplyCtx, MessageBody, person_in_org};
use crate::error::{DomainError, DomainResult};
use crate::messaging::{Channel, Content, NewMessage, queue_message_caused};

pub(super) async fn send(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    channel: &str,
    body: &MessageBody,
) -> DomainResult<()> {
    let person = person_in_org(tx, ctx, person_id).await?;
    // No address, or a text without consent, fails the run with a clear error (rather than a
    // silently blocked message).
    let _address = match channel {
        "email" => person.email.clone(),
        "sms" if person.sms_consent => person.phone.clone(),
        "whatsapp" if person.whatsapp_consent => person.phone.clone(),
        "sms" | "whatsapp" => {
            return Err(DomainError::validation(
                "channel",
                format!("{person_id} has not consented to {channel} messages"),
            ));
        }
        other => {
            return Err(DomainError::validation(
                "channel",
                format!("unknown channel `{other}`"),
            ));
        }
    }
    .ok_or_else(|| {
        DomainError::validation(
            "channel",
            format!("{person_id} has no address for {channel}"),
        )
    })?;
    let channel = Channel::parse(channel).ok_or_else(|| {
        DomainError::validation("channel", format!("unknown channel `{channel}`"))
    })?;
    let content = match body {
        MessageBody::Text { text } => {
            if text.trim().is_empty() || text.len() > 10_000 {
                return Err(DomainError::validation(
                    "body",
                    "text must be 1 to 10000 bytes",
                ));
            }
            Content::Text {
                subject: None,
                body: text.clone(),
            }
        }
        MessageBody::Template {
            name, variables, ..
        } => Content::Template {
            key: name.clone(),
            vars: variables.clone(),
        },
    };
    queue_message_caused(
        tx,
        ctx.scope,
        NewMessage {
            person_id,
            channel,
            content,
            idempotency_key: Some(ctx.idempotency_key("message")),
            attachment: None,
        },
        Some(ctx.cause),
    )
    .await?;
    Ok(())
}
