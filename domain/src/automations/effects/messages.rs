//! Effects on messaging: queue a message. The row is what the delivery workers send; its
//! idempotency key is derived from (event, automation, effect index), so it exists once.
//! SMS and WhatsApp need the person's consent; nobody is texted who did not agree.

use chrono::Utc;
use sea_orm::{DatabaseTransaction, EntityTrait, Set};
use serde_json::json;
use turnout_entity::messages;
use uuid::Uuid;

use super::{ApplyCtx, MessageBody, emit, person_in_org};
use crate::error::{DomainError, DomainResult};
use crate::outbox::kinds;

pub(super) async fn send(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    channel: &str,
    body: &MessageBody,
) -> DomainResult<()> {
    let person = person_in_org(tx, ctx, person_id).await?;
    let to = match channel {
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
    let (template, language, text) = match body {
        MessageBody::Text { text } => {
            if text.trim().is_empty() || text.len() > 10_000 {
                return Err(DomainError::validation(
                    "body",
                    "text must be 1 to 10000 bytes",
                ));
            }
            (None, person.preferred_language.clone(), text.clone())
        }
        MessageBody::Template {
            name,
            language,
            variables,
        } => (
            Some(name.clone()),
            Some(language.clone()),
            variables.to_string(),
        ),
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let key = ctx.idempotency_key("message");
    let inserted = messages::Entity::insert(messages::ActiveModel {
        id: Set(id),
        organization_id: Set(ctx.scope.org_id()),
        person_id: Set(Some(person_id)),
        channel: Set(channel.to_owned()),
        template: Set(template),
        language: Set(language),
        subject: Set(None),
        body: Set(text),
        to_address: Set(to),
        status: Set("queued".into()),
        provider: Set(None),
        provider_id: Set(None),
        error: Set(None),
        attempts: Set(0),
        idempotency_key: Set(Some(key)),
        send_after: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([messages::Column::IdempotencyKey])
    .exec_without_returning(tx)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        emit(
            tx,
            ctx,
            kinds::MESSAGE_QUEUED,
            "person",
            person_id,
            json!({"message_id": id, "person_id": person_id, "channel": channel}),
        )
        .await?;
    }
    Ok(())
}
