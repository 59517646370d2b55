//! Messages to people (email, SMS, WhatsApp) with consent.
//!
//! [`queue_message`] runs in the caller's transaction: it renders the template in the person's
//! language, resolves the address, refuses what consent does not allow (a `blocked` row with the
//! reason), and writes a `queued` row plus a `message.queued` outbox event for the relay. The
//! workers deliver through [`delivery`], which re-checks consent at send time. [`handle_inbound`]
//! applies STOP/START replies; [`record_status`] applies a provider's delivery receipts.

pub(crate) mod account;
pub mod broadcasts;
pub mod delivery;
mod inbound;
pub mod inbox;
pub mod notify;
pub mod templates;
pub mod whatsapp;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use turnout_entity::{events, message_attachments, messages, organizations, people, shifts};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::{DomainError, DomainResult};
use crate::outbox;

pub use inbound::{InboundOutcome, InboundText, Keyword, handle_inbound, parse_keyword};

/// The largest attachment a message may carry.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The states of a `messages` row.
pub mod status {
    /// Waiting for delivery (maybe deferred until `send_after`).
    pub const QUEUED: &str = "queued";
    /// Refused: no consent or no address; `error` says why. Never sent.
    pub const BLOCKED: &str = "blocked";
    /// Handed to the provider (or about to be); never sent again.
    pub const SENDING: &str = "sending";
    /// Accepted by the provider.
    pub const SENT: &str = "sent";
    /// The provider reports it reached the recipient.
    pub const DELIVERED: &str = "delivered";
    /// The provider refused it, or a send was interrupted.
    pub const FAILED: &str = "failed";
    /// The carrier could not deliver it.
    pub const UNDELIVERED: &str = "undelivered";
    /// The request reached the provider, but its answer did not reach us (a timeout, a dropped
    /// connection, an unreadable acceptance): it may have been sent. Never resent
    /// automatically: a lost message is better than a double text.
    pub const UNKNOWN: &str = "unknown";
    /// Its broadcast was cancelled before it was sent. Never sent.
    pub const CANCELLED: &str = "cancelled";
}

/// What a message is for, when it is not to a person of the CRM (`messages.purpose`).
pub mod purpose {
    /// An email about a Turnout account, such as an invitation to join an organization.
    pub const ACCOUNT: &str = "account";
}

/// Queues an email about a Turnout account to `to` (who need not be a person in the CRM) in
/// the caller's transaction: an invitation. It needs no consent, is sent like any other email
/// (rate, retries, the delivery log) and is never part of a broadcast.
pub(crate) async fn queue_account_email<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    to: &str,
    email: account::Email,
) -> DomainResult<Uuid> {
    let account::Email {
        template,
        language,
        subject,
        body,
    } = email;
    let now = Utc::now();
    let id = Uuid::now_v7();
    messages::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        person_id: Set(None),
        channel: Set(Channel::Email.as_str().to_owned()),
        template: Set(Some(template.to_owned())),
        language: Set(Some(language.to_owned())),
        subject: Set(Some(subject)),
        body: Set(body),
        to_address: Set(to.to_owned()),
        status: Set(status::QUEUED.to_owned()),
        provider: Set(None),
        provider_id: Set(None),
        error: Set(None),
        attempts: Set(0),
        idempotency_key: Set(None),
        send_after: Set(Some(now)),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        broadcast_id: Set(None),
        public_token: Set(None),
        purpose: Set(Some(purpose::ACCOUNT.to_owned())),
        content_sid: Set(None),
        content_variables: Set(None),
    }
    .insert(conn)
    .await?;
    outbox::record(
        conn,
        scope,
        outbox::DomainEvent::MessageQueued {
            message_id: id,
            person_id: None,
            channel: Channel::Email.as_str().to_owned(),
        },
    )
    .await?;
    Ok(id)
}

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
    Whatsapp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "whatsapp" => Some(Self::Whatsapp),
            _ => None,
        }
    }
}

/// What a message says: a template rendered with variables, or literal text.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// A template by key (`rsvp_confirmation`, `shift_reminder`, `shift_missed`, `shift_thanks`,
    /// `welcome`, or one of the organization's own). `vars` is a JSON object; a `shift_id` (or
    /// `event_id`) in it makes the shift's and event's fields available as `shift.*` and `event.*`.
    Template { key: String, vars: Value },
    /// Literal text; `subject` is for email.
    Text {
        subject: Option<String>,
        body: String,
    },
}

/// A file sent with an email (the .ics invite of an RSVP confirmation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message to queue for one person.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewMessage {
    pub person_id: Uuid,
    pub channel: Channel,
    pub content: Content,
    /// A second message with the same key is not queued (`queue_message` returns `None`).
    pub idempotency_key: Option<String>,
    pub attachment: Option<Attachment>,
}

/// Queues `msg` in the caller's transaction. Returns the message id, or `None` when a message
/// with the same idempotency key exists. A message consent does not allow (SMS or WhatsApp
/// without consent, no address) is recorded as `blocked` with the reason, and its id returned;
/// only a `queued` message gets a `message.queued` outbox event.
pub async fn queue_message<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    msg: NewMessage,
) -> DomainResult<Option<Uuid>> {
    queue_message_caused(conn, scope, msg, None).await
}

/// [`queue_message`] for a message something else caused (an automation's effect): its
/// `message.queued` event carries the cause, so chains of events stay bounded.
pub async fn queue_message_caused<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    msg: NewMessage,
    cause: Option<outbox::Cause>,
) -> DomainResult<Option<Uuid>> {
    let key = crate::values::optional_text("idempotencyKey", msg.idempotency_key.as_deref(), 200)?;
    if let Some(key) = &key {
        let existing = messages::Entity::find()
            .filter(messages::Column::IdempotencyKey.eq(key.as_str()))
            .one(conn)
            .await?;
        if existing.is_some() {
            return Ok(None);
        }
    }
    if let Some(a) = &msg.attachment {
        validate_attachment(a)?;
    }
    let person = find_person(conn, scope, msg.person_id).await?;
    let org = organizations::Entity::find_by_id(scope.org_id())
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("organization"))?;

    let (template, language, subject, body, approved) = match &msg.content {
        Content::Template { key, vars } => {
            let languages = templates::language_chain(
                person.preferred_language.as_deref(),
                &org.default_language,
            );
            let source =
                templates::find(conn, scope.org_id(), key, msg.channel, &languages).await?;
            let context = context(conn, scope, &org, &person, vars).await?;
            let subject = match (&source.subject, msg.channel) {
                (Some(s), Channel::Email) => Some(templates::render(s, &context)?),
                _ => None,
            };
            let body = templates::render(&source.body, &context)?;
            // Rendered now, like the body: a variable nobody gave is the caller's error.
            let approved = match (&source.approved, msg.channel) {
                (Some(a), Channel::Whatsapp) => Some(a.render(&context)?),
                _ => None,
            };
            (
                Some(key.clone()),
                Some(source.language),
                subject,
                body,
                approved,
            )
        }
        Content::Text { subject, body } => {
            let body = body.trim().to_owned();
            if body.chars().count() > 10_000 {
                return Err(DomainError::validation(
                    "content.body",
                    "is longer than 10000 characters",
                ));
            }
            let subject = match msg.channel {
                Channel::Email => {
                    crate::values::optional_text("content.subject", subject.as_deref(), 300)?
                }
                _ => None,
            };
            (None, None, subject, body, None)
        }
    };
    if body.trim().is_empty() {
        return Err(DomainError::validation(
            "content",
            "renders to an empty message",
        ));
    }

    let (to_address, refusal) = match address_of(msg.channel, &person) {
        Ok(addr) => (addr, consent_problem(msg.channel, Some(&person))),
        Err(reason) => (String::new(), Some(reason)),
    };
    let now = Utc::now();
    let id = Uuid::now_v7();
    let status = if refusal.is_some() {
        status::BLOCKED
    } else {
        status::QUEUED
    };
    let row = messages::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        person_id: Set(Some(person.id)),
        channel: Set(msg.channel.as_str().to_owned()),
        template: Set(template),
        language: Set(language),
        subject: Set(subject),
        body: Set(body),
        to_address: Set(to_address),
        status: Set(status.to_owned()),
        provider: Set(None),
        provider_id: Set(None),
        error: Set(refusal.clone()),
        attempts: Set(0),
        idempotency_key: Set(key),
        send_after: Set(Some(now)),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        broadcast_id: Set(None),
        public_token: Set(None),
        purpose: Set(None),
        content_sid: Set(approved.as_ref().map(|a| a.content_sid.clone())),
        content_variables: Set(approved.map(|a| a.variables)),
    };
    let inserted = messages::Entity::insert(row)
        .on_conflict(
            OnConflict::column(messages::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    if refusal.is_some() {
        tracing::info!(message_id = %id, reason = ?refusal, "message blocked");
        return Ok(Some(id));
    }
    if let Some(a) = msg.attachment {
        message_attachments::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(scope.org_id()),
            message_id: Set(id),
            filename: Set(a.filename),
            content_type: Set(a.content_type),
            bytes: Set(a.bytes),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    outbox::record_caused(
        conn,
        scope,
        outbox::DomainEvent::MessageQueued {
            message_id: id,
            person_id: Some(person.id),
            channel: msg.channel.as_str().to_owned(),
        },
        cause,
    )
    .await?;
    Ok(Some(id))
}

fn validate_attachment(a: &Attachment) -> DomainResult<()> {
    crate::values::required_text("attachment.filename", Some(&a.filename), 255)?;
    crate::values::required_text("attachment.contentType", Some(&a.content_type), 255)?;
    if a.bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(DomainError::validation(
            "attachment.bytes",
            format!("is larger than {MAX_ATTACHMENT_BYTES} bytes"),
        ));
    }
    Ok(())
}

async fn find_person<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<people::Model> {
    let person = people::Entity::find_by_id(id)
        .filter(people::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("person"))?;
    if let Some(chapters) = scope.chapters()
        && !person.chapter_id.is_some_and(|c| chapters.contains(&c))
    {
        return Err(DomainError::not_found("person"));
    }
    Ok(person)
}

/// The address `channel` reaches `person` at, or why there is none.
fn address_of(channel: Channel, person: &people::Model) -> Result<String, String> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match channel {
        Channel::Email => present(&person.email).ok_or_else(|| "no email address".to_owned()),
        Channel::Sms | Channel::Whatsapp => {
            present(&person.phone).ok_or_else(|| "no phone number".to_owned())
        }
    }
}

/// Why `person` may not be sent a message on `channel` now, or `None` when they may. Email
/// needs an address; SMS and WhatsApp need the person's consent for that channel.
pub fn consent_problem(channel: Channel, person: Option<&people::Model>) -> Option<String> {
    consent_problem_for(channel, person, false)
}

/// [`consent_problem`] for a message that is a `broadcast` or not: a broadcast email also
/// needs email consent (a transactional one, such as an RSVP confirmation, does not).
pub fn consent_problem_for(
    channel: Channel,
    person: Option<&people::Model>,
    broadcast: bool,
) -> Option<String> {
    let Some(person) = person else {
        return Some("the person no longer exists".to_owned());
    };
    if person.archived_at.is_some() {
        return Some("the person is archived".to_owned());
    }
    if let Err(reason) = address_of(channel, person) {
        return Some(reason);
    }
    match channel {
        Channel::Email if broadcast && !person.email_consent => Some("no email consent".to_owned()),
        Channel::Email => None,
        Channel::Sms if !person.sms_consent => Some("no SMS consent".to_owned()),
        Channel::Whatsapp if !person.whatsapp_consent => Some("no WhatsApp consent".to_owned()),
        _ => None,
    }
}

/// The variables a template sees: the caller's `vars`, and `person`, `org`, and with a
/// `shift_id` or `event_id` in `vars`, `shift` and `event`.
async fn context<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    org: &organizations::Model,
    person: &people::Model,
    vars: &Value,
) -> DomainResult<Value> {
    let mut ctx = match vars {
        Value::Object(map) => map.clone(),
        Value::Null => serde_json::Map::new(),
        _ => {
            return Err(DomainError::validation(
                "content.vars",
                "must be a JSON object",
            ));
        }
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    ctx.entry("person").or_insert_with(|| {
        json!({
            "id": person.id,
            "first_name": text(&person.first_name),
            "last_name": text(&person.last_name),
            "email": text(&person.email),
            "phone": text(&person.phone),
        })
    });
    ctx.entry("org")
        .or_insert_with(|| json!({ "id": org.id, "name": org.name }));
    let id_var = |name: &str| -> DomainResult<Option<Uuid>> {
        match ctx.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Uuid::parse_str(s).map(Some).map_err(|_| {
                DomainError::validation(format!("content.vars.{name}"), "is not an id")
            }),
            Some(_) => Err(DomainError::validation(
                format!("content.vars.{name}"),
                "is not an id",
            )),
        }
    };
    let shift_id = id_var("shift_id")?;
    let mut event_id = id_var("event_id")?;
    if let Some(shift_id) = shift_id {
        let shift = shifts::Entity::find_by_id(shift_id)
            .filter(shifts::Column::OrganizationId.eq(scope.org_id()))
            .one(conn)
            .await?
            .ok_or(DomainError::not_found("shift"))?;
        event_id = Some(shift.event_id);
        let tz = event_time_zone(conn, shift.event_id).await?;
        ctx.entry("shift").or_insert_with(|| {
            json!({
                "id": shift.id,
                "starts_at": shift.starts_at.to_rfc3339(),
                "ends_at": shift.ends_at.to_rfc3339(),
                "starts_at_local": local(shift.starts_at, tz),
                "ends_at_local": local(shift.ends_at, tz),
            })
        });
    }
    if let Some(event_id) = event_id {
        let event = events::Entity::find_by_id(event_id)
            .filter(events::Column::OrganizationId.eq(scope.org_id()))
            .one(conn)
            .await?
            .ok_or(DomainError::not_found("event"))?;
        ctx.entry("event").or_insert_with(|| {
            json!({
                "id": event.id,
                "title": event.title,
                "location": event.location,
                "virtual_url": event.virtual_url,
                "time_zone": event.time_zone,
            })
        });
    }
    Ok(Value::Object(ctx))
}

async fn event_time_zone<C: ConnectionTrait>(
    conn: &C,
    event_id: Uuid,
) -> DomainResult<chrono_tz::Tz> {
    let event = events::Entity::find_by_id(event_id).one(conn).await?;
    Ok(event
        .and_then(|e| e.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC))
}

/// A time as people read it in `tz`: `2026-12-01 18:00 EST`.
fn local(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Applies a provider's delivery receipt for the message it knows as `provider_id`:
/// `delivered`, `failed` or `undelivered` (Twilio's words; others, like `sent`, change
/// nothing). A final state is never overwritten by a late, out-of-order receipt. Returns
/// what changed: the channel of each message settled, and the status it took.
pub async fn record_status(
    db: &crate::db::Db,
    provider_id: &str,
    status: &str,
) -> DomainResult<Settled> {
    let new = match status.trim().to_ascii_lowercase().as_str() {
        "delivered" | "read" => status::DELIVERED,
        "failed" => status::FAILED,
        "undelivered" => status::UNDELIVERED,
        _ => {
            return Ok(Settled {
                status: "",
                channels: Vec::new(),
            });
        }
    };
    let open = || {
        sea_orm::Condition::all()
            .add(messages::Column::ProviderId.eq(provider_id))
            .add(messages::Column::Status.is_in([status::SENT, status::SENDING]))
    };
    let tx = db.begin_write().await?;
    let settled = messages::Entity::find().filter(open()).all(&tx).await?;
    messages::Entity::update_many()
        .col_expr(messages::Column::Status, Expr::value(new))
        .col_expr(messages::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(open())
        .exec(&tx)
        .await?;
    for m in &settled {
        let event = if new == status::DELIVERED {
            outbox::DomainEvent::MessageDelivered {
                message_id: m.id,
                person_id: m.person_id,
                channel: m.channel.clone(),
            }
        } else {
            outbox::DomainEvent::MessageFailed {
                message_id: m.id,
                person_id: m.person_id,
                channel: m.channel.clone(),
                reason: new.to_owned(),
            }
        };
        outbox::record(&tx, &OrgScope::system(m.organization_id), event).await?;
    }
    tx.commit().await?;
    Ok(Settled {
        status: new,
        channels: settled.into_iter().map(|m| m.channel).collect(),
    })
}

/// What a delivery receipt changed ([`record_status`]).
#[derive(Debug)]
pub struct Settled {
    /// The status the messages took (empty when the receipt changes nothing).
    pub status: &'static str,
    /// The channel of each message that took it.
    pub channels: Vec<String>,
}
