//! The states a message goes through on its way out, for the delivery worker. Each function is
//! one statement in its own (auto-committed) transaction and moves the message only from the
//! state it expects, so two workers racing on one message cannot both send it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use turnout_entity::{message_attachments, messages, organizations, people};
use uuid::Uuid;

use super::{Attachment, Channel, status};
use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::organization::senders;
use crate::outbox::{self, DomainEvent};

/// A message as the worker needs it: the row, its person now, its attachments, its sender.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub message: messages::Model,
    pub channel: Channel,
    /// The person as they are now (consent may have changed since queueing).
    pub person: Option<people::Model>,
    pub attachments: Vec<Attachment>,
    /// The organization's time zone, for quiet hours when the person has none.
    pub org_time_zone: Option<String>,
    /// The organization is suspended by the operator: its messages wait until it is resumed.
    pub org_suspended: bool,
    /// An email about a Turnout account (an invitation), to an address rather than a person:
    /// it needs no consent.
    pub account: bool,
    /// Who it comes from: the person's chapter's (or region's) sender, else the
    /// organization's; `None`: the deployment's.
    pub from: Option<String>,
}

/// Loads message `id` for delivery; `None` when it does not exist (any more).
pub async fn load(db: &Db, id: Uuid) -> DomainResult<Option<Outgoing>> {
    let Some((message, org)) = messages::Entity::find_by_id(id)
        .find_also_related(organizations::Entity)
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    let channel = Channel::parse(&message.channel).ok_or_else(|| {
        DomainError::internal(format!(
            "message {id} has unknown channel {}",
            message.channel
        ))
    })?;
    let person = match message.person_id {
        Some(pid) => {
            people::Entity::find_by_id(pid)
                .filter(people::Column::OrganizationId.eq(message.organization_id))
                .one(db.conn())
                .await?
        }
        None => None,
    };
    let attachments = message_attachments::Entity::find()
        .filter(message_attachments::Column::MessageId.eq(id))
        .order_by_asc(message_attachments::Column::Id)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|a| Attachment {
            filename: a.filename,
            content_type: a.content_type,
            bytes: a.bytes,
        })
        .collect();
    let chapter = person.as_ref().and_then(|p| p.chapter_id);
    let from = match &org {
        Some(org) => senders::book(db.conn(), org, chapter.is_some())
            .await?
            .from_for(channel, chapter),
        None => None,
    };
    Ok(Some(Outgoing {
        from,
        channel,
        person,
        attachments,
        org_time_zone: org.as_ref().and_then(|o| o.time_zone.clone()),
        org_suspended: org.is_some_and(|o| o.suspended_at.is_some()),
        account: message.purpose.as_deref() == Some(super::purpose::ACCOUNT),
        message,
    }))
}

/// Moves `id` from `from` to `to`, setting `extra` columns too. True when it moved.
async fn transition(
    db: &Db,
    id: Uuid,
    from: &str,
    to: &str,
    extra: Vec<(messages::Column, Expr)>,
) -> DomainResult<bool> {
    move_message(db.conn(), id, from, to, extra).await
}

async fn move_message<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &str,
    to: &str,
    extra: Vec<(messages::Column, Expr)>,
) -> DomainResult<bool> {
    let mut update = messages::Entity::update_many()
        .col_expr(messages::Column::Status, Expr::value(to))
        .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()));
    for (col, expr) in extra {
        update = update.col_expr(col, expr);
    }
    let result = update
        .filter(messages::Column::Id.eq(id))
        .filter(messages::Column::Status.eq(from))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// [`transition`], and the event `announce` makes of the moved message, in one transaction,
/// so automations and webhooks hear of sends and failures.
async fn transition_announced(
    db: &Db,
    id: Uuid,
    from: &str,
    to: &str,
    extra: Vec<(messages::Column, Expr)>,
    announce: impl FnOnce(&messages::Model) -> DomainEvent,
) -> DomainResult<bool> {
    let tx = db.begin_write().await?;
    let moved = move_message(&tx, id, from, to, extra).await?;
    if moved && let Some(row) = messages::Entity::find_by_id(id).one(&tx).await? {
        outbox::record(&tx, &OrgScope::system(row.organization_id), announce(&row)).await?;
    }
    tx.commit().await?;
    Ok(moved)
}

/// Refuses a queued message for `reason` (consent withdrawn since it was queued).
pub async fn block(db: &Db, id: Uuid, reason: &str) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::QUEUED,
        status::BLOCKED,
        vec![(messages::Column::Error, Expr::value(reason))],
    )
    .await
}

/// Drops a queued message of a cancelled broadcast: `cancelled`, never sent.
pub async fn drop_cancelled(db: &Db, id: Uuid) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::QUEUED,
        status::CANCELLED,
        vec![(messages::Column::Error, Expr::value("broadcast cancelled"))],
    )
    .await
}

/// Keeps a queued message waiting until `until` (quiet hours).
pub async fn defer(db: &Db, id: Uuid, until: DateTime<Utc>) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::QUEUED,
        status::QUEUED,
        vec![(messages::Column::SendAfter, Expr::value(until))],
    )
    .await
}

/// What [`claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// It is `sending` now, and this caller may hand it to the provider.
    Claimed,
    /// Consent was withdrawn (or the person archived) before the claim: it is `blocked` now.
    Blocked(String),
    /// It was not `queued` any more: another worker has it, or it is done.
    Taken,
}

/// Claims a queued message for sending: `sending`, one more attempt, but only while its
/// person still consents to its channel, checked in the same statement. It runs after any
/// rate-limit wait, so a STOP committed before the claim means the message is never handed to
/// the provider. Committed before the provider is called, so a crash during the call leaves it
/// `sending`, and it is never sent twice.
pub async fn claim(db: &Db, out: &Outgoing) -> DomainResult<Claim> {
    let (id, channel, broadcast) = (
        out.message.id,
        out.channel,
        out.message.broadcast_id.is_some(),
    );
    if out.account {
        // An account email goes to an address, not a person: no consent to check.
        let claimed = messages::Entity::update_many()
            .col_expr(messages::Column::Status, Expr::value(status::SENDING))
            .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()))
            .col_expr(
                messages::Column::Attempts,
                Expr::col(messages::Column::Attempts).add(1),
            )
            .filter(messages::Column::Id.eq(id))
            .filter(messages::Column::Status.eq(status::QUEUED))
            .exec(db.conn())
            .await?
            .rows_affected
            == 1;
        return Ok(if claimed {
            Claim::Claimed
        } else {
            Claim::Taken
        });
    }
    let mut consents = Query::select();
    consents
        .expr(Expr::val(1))
        .from(people::Entity)
        .and_where(
            Expr::col((people::Entity, people::Column::Id))
                .equals((messages::Entity, messages::Column::PersonId)),
        )
        .and_where(
            Expr::col((people::Entity, people::Column::OrganizationId))
                .equals((messages::Entity, messages::Column::OrganizationId)),
        )
        .and_where(Expr::col((people::Entity, people::Column::ArchivedAt)).is_null());
    match channel {
        // A broadcast email needs email consent; a transactional one does not.
        Channel::Email if broadcast => {
            consents.and_where(Expr::col((people::Entity, people::Column::EmailConsent)).eq(true));
        }
        Channel::Email => {}
        Channel::Sms => {
            consents.and_where(Expr::col((people::Entity, people::Column::SmsConsent)).eq(true));
        }
        Channel::Whatsapp => {
            consents
                .and_where(Expr::col((people::Entity, people::Column::WhatsappConsent)).eq(true));
        }
    }
    let claimed = messages::Entity::update_many()
        .col_expr(messages::Column::Status, Expr::value(status::SENDING))
        .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            messages::Column::Attempts,
            Expr::col(messages::Column::Attempts).add(1),
        )
        .filter(messages::Column::Id.eq(id))
        .filter(messages::Column::Status.eq(status::QUEUED))
        .filter(Expr::exists(consents.take()))
        .exec(db.conn())
        .await?
        .rows_affected
        == 1;
    if claimed {
        return Ok(Claim::Claimed);
    }
    // Not claimed: either someone else has it, or consent is gone. Look again.
    let Some(out) = load(db, id).await? else {
        return Ok(Claim::Taken);
    };
    if out.message.status != status::QUEUED {
        return Ok(Claim::Taken);
    }
    let reason = super::consent_problem_for(channel, out.person.as_ref(), broadcast)
        .unwrap_or_else(|| "consent withdrawn before sending".to_owned());
    Ok(if block(db, id, &reason).await? {
        Claim::Blocked(reason)
    } else {
        Claim::Taken
    })
}

/// The provider accepted the message.
pub async fn mark_sent(
    db: &Db,
    id: Uuid,
    provider: &str,
    provider_id: &str,
    at: DateTime<Utc>,
) -> DomainResult<bool> {
    transition_announced(
        db,
        id,
        status::SENDING,
        status::SENT,
        vec![
            (messages::Column::Provider, Expr::value(provider)),
            (messages::Column::ProviderId, Expr::value(provider_id)),
            (messages::Column::SentAt, Expr::value(at)),
            (messages::Column::Error, Expr::value(Option::<String>::None)),
        ],
        |m| DomainEvent::MessageSent {
            message_id: m.id,
            person_id: m.person_id,
            channel: m.channel.clone(),
        },
    )
    .await
}

/// A transient failure: back to `queued` for a retry, with the error kept.
pub async fn requeue(db: &Db, id: Uuid, error: &str) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::SENDING,
        status::QUEUED,
        vec![(messages::Column::Error, Expr::value(error))],
    )
    .await
}

/// The provider may have the message, but its answer was lost: `unknown`, never resent.
pub async fn mark_unknown(db: &Db, id: Uuid, provider: &str, error: &str) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::SENDING,
        status::UNKNOWN,
        vec![
            (messages::Column::Provider, Expr::value(provider)),
            (messages::Column::Error, Expr::value(error)),
        ],
    )
    .await
}

/// A permanent failure: the provider refused the message.
pub async fn fail(db: &Db, id: Uuid, provider: &str, error: &str) -> DomainResult<bool> {
    transition_announced(
        db,
        id,
        status::SENDING,
        status::FAILED,
        vec![
            (messages::Column::Provider, Expr::value(provider)),
            (messages::Column::Error, Expr::value(error)),
        ],
        |m| DomainEvent::MessageFailed {
            message_id: m.id,
            person_id: m.person_id,
            channel: m.channel.clone(),
            reason: error.to_owned(),
        },
    )
    .await
}

/// A message found in `sending`: a previous attempt died mid-send. Whether the provider got it
/// is unknown, so it is marked failed and never sent again.
pub async fn fail_interrupted(db: &Db, id: Uuid) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::SENDING,
        status::FAILED,
        vec![(
            messages::Column::Error,
            Expr::value("interrupted; not resent"),
        )],
    )
    .await
}

/// The job runner gave up on a queued message (its last retry failed): it becomes `failed`
/// with `error`, and no later job sends it.
pub async fn give_up(db: &Db, id: Uuid, error: &str) -> DomainResult<bool> {
    transition(
        db,
        id,
        status::QUEUED,
        status::FAILED,
        vec![(messages::Column::Error, Expr::value(error))],
    )
    .await
}
