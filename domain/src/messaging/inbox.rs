//! The inbox: two-way texting with people. Every SMS or WhatsApp message a person sends is
//! kept in their conversation (one per person, made by their first message) and announced as
//! `message.received`; staff read a conversation (their replies and ours, in order), reply,
//! assign it to a member and mark it read. Replies go out through [`super::queue_message`], so
//! consent, STOP, quiet hours and the provider's rate hold for them as for any message.
//! Everything here needs `messages:send`, and a member limited to chapters sees the
//! conversations of their chapters' people only.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
};
use turnout_entity::{conversations, inbound_messages, memberships, messages, people};
use uuid::Uuid;

use super::{Channel, Content, NewMessage, queue_message};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult, Reason};
use crate::outbox::{self, DomainEvent};
use crate::people::{Page, PageRequest, visible};

/// The longest inbound message kept (Twilio's SMS limit is 1,600, WhatsApp's 4,096).
pub const MAX_BODY_CHARS: usize = 5_000;
/// The most messages one read of a conversation returns.
pub const MAX_MESSAGES: u64 = 200;

/// Keeps a message from `person` in their conversation and announces it, in the caller's
/// transaction. `provider_id` (Twilio's MessageSid) makes a webhook Twilio retries a no-op:
/// `None` is returned then.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn receive<C: ConnectionTrait>(
    conn: &C,
    person: &people::Model,
    channel: Channel,
    from: &str,
    to: Option<&str>,
    body: &str,
    provider_id: Option<&str>,
    keyword: Option<&str>,
    now: DateTime<Utc>,
) -> DomainResult<Option<Uuid>> {
    if let Some(sid) = provider_id {
        let seen = inbound_messages::Entity::find()
            .filter(inbound_messages::Column::OrganizationId.eq(person.organization_id))
            .filter(inbound_messages::Column::PersonId.eq(person.id))
            .filter(inbound_messages::Column::ProviderId.eq(sid))
            .count(conn)
            .await?;
        if seen > 0 {
            return Ok(None);
        }
    }
    let body: String = body.trim().chars().take(MAX_BODY_CHARS).collect();
    let id = Uuid::now_v7();
    inbound_messages::ActiveModel {
        id: Set(id),
        organization_id: Set(person.organization_id),
        person_id: Set(person.id),
        channel: Set(channel.as_str().to_owned()),
        from_address: Set(from.to_owned()),
        to_address: Set(to.map(str::to_owned)),
        body: Set(body.clone()),
        provider_id: Set(provider_id.map(str::to_owned)),
        received_at: Set(now),
    }
    .insert(conn)
    .await?;
    if channel == Channel::Whatsapp {
        super::whatsapp::opened(conn, person.id, now).await?;
    }
    let updated = conversations::Entity::update_many()
        .col_expr(
            conversations::Column::UnreadCount,
            Expr::col(conversations::Column::UnreadCount).add(1),
        )
        .col_expr(conversations::Column::LastMessageAt, Expr::value(now))
        .filter(conversations::Column::OrganizationId.eq(person.organization_id))
        .filter(conversations::Column::PersonId.eq(person.id))
        .exec(conn)
        .await?;
    if updated.rows_affected == 0 {
        conversations::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(person.organization_id),
            person_id: Set(person.id),
            assigned_user_id: Set(person.point_person_user_id),
            unread_count: Set(1),
            last_message_at: Set(now),
            read_at: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    outbox::record(
        conn,
        &OrgScope::system(person.organization_id),
        DomainEvent::MessageReceived {
            message_id: id,
            person_id: person.id,
            channel: channel.as_str().to_owned(),
            body,
            keyword: keyword.map(str::to_owned),
        },
    )
    .await?;
    Ok(Some(id))
}

/// A conversation with the person it is with.
#[derive(Clone, Debug)]
pub struct Conversation {
    pub row: conversations::Model,
    pub person: people::Model,
}

/// Which conversations to list.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    /// Only those with replies nobody has read.
    pub unread: bool,
    /// Only those assigned to this member.
    pub assigned_user_id: Option<Uuid>,
    /// Only those assigned to nobody.
    pub unassigned: bool,
}

fn filtered(scope: &OrgScope, filter: &ConversationFilter) -> Condition {
    let mut cond = visible(scope).add(conversations::Column::OrganizationId.eq(scope.org_id()));
    if filter.unread {
        cond = cond.add(conversations::Column::UnreadCount.gt(0));
    }
    if let Some(user) = filter.assigned_user_id {
        cond = cond.add(conversations::Column::AssignedUserId.eq(user));
    }
    if filter.unassigned {
        cond = cond.add(conversations::Column::AssignedUserId.is_null());
    }
    cond
}

/// Conversations, the latest message first: one statement (two with `after`). A conversation
/// that gets a message moves to the top, so a later page may repeat or skip it.
pub async fn list(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    filter: &ConversationFilter,
    page: PageRequest,
) -> DomainResult<Page<Conversation>> {
    let mut cond = filtered(scope, filter);
    if let Some(after) = page.after {
        let cursor = conversations::Entity::find_by_id(after)
            .filter(conversations::Column::OrganizationId.eq(scope.org_id()))
            .one(db.conn())
            .await?
            .ok_or_else(|| DomainError::validation("after", "is not a conversation's cursor"))?;
        cond = cond.add(
            Condition::any()
                .add(conversations::Column::LastMessageAt.lt(cursor.last_message_at))
                .add(
                    Condition::all()
                        .add(conversations::Column::LastMessageAt.eq(cursor.last_message_at))
                        .add(conversations::Column::Id.lt(cursor.id)),
                ),
        );
    }
    let rows = conversations::Entity::find()
        .find_also_related(people::Entity)
        .filter(cond)
        .order_by_desc(conversations::Column::LastMessageAt)
        .order_by_desc(conversations::Column::Id)
        .limit(page.first + 1)
        .all(db.conn())
        .await?;
    let has_next_page = rows.len() as u64 > page.first;
    let items = rows
        .into_iter()
        .take(page.first as usize)
        .filter_map(|(row, person)| person.map(|person| Conversation { row, person }))
        .collect();
    Ok(Page {
        items,
        has_next_page,
    })
}

/// How many conversations match `filter` (all pages), in one statement.
pub async fn count(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    filter: &ConversationFilter,
) -> DomainResult<u64> {
    Ok(conversations::Entity::find()
        .join(JoinType::InnerJoin, conversations::Relation::People.def())
        .filter(filtered(scope, filter))
        .count(db.conn())
        .await?)
}

/// How many conversations (matching `filter`) have unread replies, and how many replies.
pub async fn unread(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    filter: &ConversationFilter,
) -> DomainResult<(u64, u64)> {
    let filter = ConversationFilter {
        unread: true,
        ..filter.clone()
    };
    let counts: Option<(i64, Option<i64>)> = conversations::Entity::find()
        .join(JoinType::InnerJoin, conversations::Relation::People.def())
        .filter(filtered(scope, &filter))
        .select_only()
        .column_as(conversations::Column::Id.count(), "conversations")
        .column_as(conversations::Column::UnreadCount.sum(), "messages")
        .into_tuple()
        .one(db.conn())
        .await?;
    let (conversations, messages) = counts.unwrap_or((0, None));
    Ok((
        u64::try_from(conversations).unwrap_or(0),
        u64::try_from(messages.unwrap_or(0)).unwrap_or(0),
    ))
}

/// The conversation with person `person_id`; `None` before their first message.
pub async fn get(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    person_id: Uuid,
) -> DomainResult<Option<Conversation>> {
    let person = visible_person(db.conn(), scope, person_id).await?;
    let row = conversations::Entity::find()
        .filter(conversations::Column::OrganizationId.eq(scope.org_id()))
        .filter(conversations::Column::PersonId.eq(person_id))
        .one(db.conn())
        .await?;
    Ok(row.map(|row| Conversation { row, person }))
}

async fn visible_person<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person_id: Uuid,
) -> DomainResult<people::Model> {
    people::Entity::find_by_id(person_id)
        .filter(visible(scope))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("person"))
}

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the person.
    Inbound,
    /// To the person (a reply, a broadcast, a reminder).
    Outbound,
}

/// One message of a conversation, either way.
#[derive(Clone, Debug)]
pub struct ConversationMessage {
    pub id: Uuid,
    pub direction: Direction,
    pub channel: String,
    pub body: String,
    /// For outbound messages: `queued`, `blocked`, `sent`, `delivered`, `failed`, …
    pub status: Option<String>,
    /// Why an outbound message was blocked or failed.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

impl ConversationMessage {
    fn inbound(row: inbound_messages::Model) -> Self {
        Self {
            id: row.id,
            direction: Direction::Inbound,
            channel: row.channel,
            body: row.body,
            status: None,
            error: None,
            at: row.received_at,
        }
    }

    fn outbound(row: messages::Model) -> Self {
        Self {
            id: row.id,
            direction: Direction::Outbound,
            channel: row.channel,
            body: row.body,
            status: Some(row.status),
            error: row.error,
            at: row.created_at,
        }
    }
}

/// The last `last` texts (SMS and WhatsApp) between the organization and the person, oldest
/// first: two statements, whatever their number.
pub async fn messages(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    person_id: Uuid,
    last: u64,
) -> DomainResult<Vec<ConversationMessage>> {
    if last > MAX_MESSAGES {
        return Err(DomainError::validation(
            "last",
            format!("must be at most {MAX_MESSAGES}"),
        ));
    }
    visible_person(db.conn(), scope, person_id).await?;
    let inbound = inbound_messages::Entity::find()
        .filter(inbound_messages::Column::OrganizationId.eq(scope.org_id()))
        .filter(inbound_messages::Column::PersonId.eq(person_id))
        .order_by_desc(inbound_messages::Column::ReceivedAt)
        .order_by_desc(inbound_messages::Column::Id)
        .limit(last)
        .all(db.conn())
        .await?;
    let outbound = messages::Entity::find()
        .filter(messages::Column::OrganizationId.eq(scope.org_id()))
        .filter(messages::Column::PersonId.eq(person_id))
        .filter(
            messages::Column::Channel.is_in([Channel::Sms.as_str(), Channel::Whatsapp.as_str()]),
        )
        .order_by_desc(messages::Column::CreatedAt)
        .order_by_desc(messages::Column::Id)
        .limit(last)
        .all(db.conn())
        .await?;
    let mut all: Vec<ConversationMessage> = inbound
        .into_iter()
        .map(ConversationMessage::inbound)
        .chain(outbound.into_iter().map(ConversationMessage::outbound))
        .collect();
    all.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    all.truncate(last as usize);
    all.reverse();
    Ok(all)
}

/// A message from staff to one person.
#[derive(Clone, Debug)]
pub struct StaffMessage {
    pub person_id: Uuid,
    pub channel: Channel,
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
    /// The caller's own key (at most 150 characters): the same key sends once.
    pub idempotency_key: Option<String>,
}

/// Sends the person a text (SMS or WhatsApp) or an email from staff. It is queued like any
/// message: without consent or an address it is recorded `blocked` with the reason (and
/// returned so), and a STOP before it goes out stops it. Sending marks the conversation read.
/// `idempotency_key` makes a retried request send once. Audited as `message.send`.
pub async fn send(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    message: StaffMessage,
) -> DomainResult<ConversationMessage> {
    let StaffMessage {
        person_id,
        channel,
        subject,
        body,
        idempotency_key,
    } = message;
    let key = crate::values::optional_text("idempotencyKey", idempotency_key.as_deref(), 150)?
        // Keys are the caller's own: two organizations may use the same one.
        .map(|key| format!("send:{}:{key}", scope.org_id()));
    let tx = db.begin_write().await?;
    let person = visible_person(&tx, scope, person_id).await?;
    // Said now rather than blocked later: WhatsApp takes free text only within a day of the
    // person's last message. (Without consent it is blocked for that, the clearer reason; a
    // retry of a message sent under its key answers with that message.)
    let sent_before = match &key {
        Some(key) => {
            messages::Entity::find()
                .filter(messages::Column::OrganizationId.eq(scope.org_id()))
                .filter(messages::Column::IdempotencyKey.eq(key.as_str()))
                .count(&tx)
                .await?
                > 0
        }
        None => false,
    };
    if channel == Channel::Whatsapp
        && person.whatsapp_consent
        && !sent_before
        && !super::whatsapp::window_open(&person, Utc::now())
    {
        return Err(DomainError::invalid(
            "input.channel",
            Reason::Invalid,
            "WhatsApp takes free text only within 24 hours of the person's last WhatsApp \
             message; text them by SMS, or send a template with an approved WhatsApp twin",
        ));
    }
    let message = NewMessage {
        person_id,
        channel,
        content: Content::Text { subject, body },
        idempotency_key: key.clone(),
        attachment: None,
    };
    let id = match queue_message(&tx, scope, message).await? {
        Some(id) => id,
        // Sent before under this key: answer with that message.
        None => {
            messages::Entity::find()
                .filter(messages::Column::OrganizationId.eq(scope.org_id()))
                .filter(messages::Column::IdempotencyKey.eq(key.unwrap_or_default()))
                .one(&tx)
                .await?
                .ok_or(DomainError::not_found("message"))?
                .id
        }
    };
    mark_read_in(&tx, scope, person_id).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "message.send",
        "message",
        Some(id),
        &["body"],
    )
    .await?;
    let row = messages::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("message"))?;
    tx.commit().await?;
    Ok(ConversationMessage::outbound(row))
}

async fn mark_read_in<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person_id: Uuid,
) -> DomainResult<()> {
    conversations::Entity::update_many()
        .col_expr(conversations::Column::UnreadCount, Expr::value(0))
        .col_expr(conversations::Column::ReadAt, Expr::value(Utc::now()))
        .filter(conversations::Column::OrganizationId.eq(scope.org_id()))
        .filter(conversations::Column::PersonId.eq(person_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Marks the conversation with the person read: its unread count goes to 0.
pub async fn mark_read(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    person_id: Uuid,
) -> DomainResult<Conversation> {
    let tx = db.begin_write().await?;
    visible_person(&tx, scope, person_id).await?;
    mark_read_in(&tx, scope, person_id).await?;
    tx.commit().await?;
    get(db, scope, person_id)
        .await?
        .ok_or(DomainError::not_found("conversation"))
}

/// Assigns the conversation with the person to member `user_id` (an enabled member of the
/// organization), or to nobody. Audited as `conversation.assign`.
pub async fn assign(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    person_id: Uuid,
    user_id: Option<Uuid>,
) -> DomainResult<Conversation> {
    let tx = db.begin_write().await?;
    visible_person(&tx, scope, person_id).await?;
    if let Some(user_id) = user_id {
        memberships::Entity::find()
            .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
            .filter(memberships::Column::UserId.eq(user_id))
            .filter(memberships::Column::DisabledAt.is_null())
            .one(&tx)
            .await?
            .ok_or(DomainError::not_found("member"))?;
    }
    let row = conversations::Entity::find()
        .filter(conversations::Column::OrganizationId.eq(scope.org_id()))
        .filter(conversations::Column::PersonId.eq(person_id))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("conversation"))?;
    let conversation_id = row.id;
    let mut active: conversations::ActiveModel = row.into();
    active.assigned_user_id = Set(user_id);
    active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "conversation.assign",
        "conversation",
        Some(conversation_id),
        &["assigned_user_id"],
    )
    .await?;
    tx.commit().await?;
    get(db, scope, person_id)
        .await?
        .ok_or(DomainError::not_found("conversation"))
}

/// Moves the removed person's inbound messages and conversation to the kept one (a merge).
pub(crate) async fn merge<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    keep_id: Uuid,
    remove_id: Uuid,
) -> DomainResult<u64> {
    let moved = inbound_messages::Entity::update_many()
        .col_expr(inbound_messages::Column::PersonId, Expr::value(keep_id))
        .filter(inbound_messages::Column::OrganizationId.eq(org_id))
        .filter(inbound_messages::Column::PersonId.eq(remove_id))
        .exec(conn)
        .await?
        .rows_affected;
    let find = |person: Uuid| {
        conversations::Entity::find()
            .filter(conversations::Column::OrganizationId.eq(org_id))
            .filter(conversations::Column::PersonId.eq(person))
            .one(conn)
    };
    if let Some(removed) = find(remove_id).await? {
        match find(keep_id).await? {
            Some(kept) => {
                let mut active: conversations::ActiveModel = kept.clone().into();
                active.unread_count = Set(kept.unread_count + removed.unread_count);
                active.last_message_at = Set(std::cmp::Ord::max(
                    kept.last_message_at,
                    removed.last_message_at,
                ));
                if kept.assigned_user_id.is_none() {
                    active.assigned_user_id = Set(removed.assigned_user_id);
                }
                active.update(conn).await?;
                conversations::Entity::delete_by_id(removed.id)
                    .exec(conn)
                    .await?;
            }
            None => {
                let mut active: conversations::ActiveModel = removed.into();
                active.person_id = Set(keep_id);
                active.update(conn).await?;
            }
        }
    }
    Ok(moved)
}
