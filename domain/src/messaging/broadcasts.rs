//! Broadcasts: one message to everyone in an audience (a saved segment or a filter), on one
//! channel, in each person's language.
//!
//! A broadcast is created as a draft, previewed (who it reaches, a rendered sample), then sent
//! now or at its scheduled time. Sending records `broadcast.started`; its dispatch job calls
//! [`queue`], which walks the audience a page at a time and writes each person's message as an
//! ordinary `messages` row naming the broadcast, with its `message.queued` event, in one
//! transaction per page. So delivery is every message's delivery (consent re-checked at send
//! time, STOP, quiet hours, the provider's rate, a lease against double sends), and a job that
//! dies half-way resumes where it stopped: a person who has the broadcast's message is skipped,
//! so each (broadcast, person) gets exactly one message.
//!
//! Unlike a transactional message (an RSVP confirmation), a broadcast email needs the person's
//! email consent, and carries an unsubscribe link (`/u/<token>`, also the RFC 8058 one-click
//! target of its `List-Unsubscribe` header). Pausing holds delivery of the queued messages;
//! cancelling drops them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use turnout_entity::{broadcasts, messages, organizations, people};
use uuid::Uuid;

use super::templates::{language_chain, render};
use super::{Channel, address_of, consent_problem_for, status};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, Scope, perm, random_code};
use crate::db::Db;
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::links::PublicLinks;
use crate::outbox::{self, DomainEvent};
use crate::people::{self as people_list, PersonCursor, PersonFilter, PersonSort};
use crate::person_write::language_tag;
use crate::values::{optional_text, required_text};

/// People per page while queuing (one transaction each).
const PAGE: u64 = 1_000;
/// Rows per multi-row INSERT of messages (22 columns).
const INSERT_CHUNK: usize = 500;
/// The longest text message a broadcast may send (ten SMS segments).
const MAX_TEXT: usize = 1_600;
/// How far ahead a broadcast may be scheduled.
const MAX_SCHEDULE_DAYS: i64 = 366;

/// The states of a broadcast.
pub mod state {
    /// Being written; nothing is sent.
    pub const DRAFT: &str = "draft";
    /// Sent for a later time.
    pub const SCHEDULED: &str = "scheduled";
    /// Its messages are being queued.
    pub const QUEUING: &str = "queuing";
    /// Every message is queued (delivery goes on).
    pub const SENT: &str = "sent";
    /// Stopped: no further message of it goes out.
    pub const CANCELLED: &str = "cancelled";
}

/// What a broadcast says in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// A language tag (`en`, `es`); people are matched by their preferred language, then its
    /// primary subtag, and the first content serves everyone else.
    pub language: String,
    /// Email only.
    pub subject: Option<String>,
    /// A template: `{{ person.first_name }}`, `{{ org.name }}`.
    pub body: String,
    /// WhatsApp only: the approved template for people outside their 24-hour window, and
    /// its variables' sources (see [`super::whatsapp`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_content_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whatsapp_variables: Vec<String>,
}

pub struct BroadcastInput {
    pub name: String,
    pub channel: Channel,
    pub audience: PersonFilter,
    pub contents: Vec<Content>,
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// The template variables a sample uses to check that a body renders.
fn context(org: &organizations::Model, person: &people::Model) -> serde_json::Value {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    json!({
        "person": {
            "id": person.id,
            "first_name": text(&person.first_name),
            "last_name": text(&person.last_name),
            "email": text(&person.email),
            "phone": text(&person.phone),
        },
        "org": { "id": org.id, "name": org.name },
    })
}

/// Checks every field, reporting all problems at once.
fn checked(input: BroadcastInput, now: DateTime<Utc>) -> DomainResult<BroadcastInput> {
    let mut problems = Problems::new();
    let name = problems.take(required_text("input.name", Some(&input.name), 200))?;
    if input.contents.is_empty() {
        problems.add(
            "input.contents",
            Reason::Required,
            "needs at least one language's message",
        );
    }
    let mut contents = Vec::with_capacity(input.contents.len());
    let mut languages = HashSet::new();
    for (i, c) in input.contents.into_iter().enumerate() {
        let at = |f: &str| format!("input.contents[{i}].{f}");
        let language = problems.take(language_tag(&at("language"), c.language.trim()))?;
        if let Some(l) = &language
            && !languages.insert(l.to_lowercase())
        {
            problems.add(&at("language"), Reason::Invalid, "is given twice");
        }
        let limit = match input.channel {
            Channel::Email => 20_000,
            Channel::Sms | Channel::Whatsapp => MAX_TEXT,
        };
        let body = problems.take(required_text(&at("body"), Some(&c.body), limit))?;
        let subject = match input.channel {
            Channel::Email => {
                problems.take(required_text(&at("subject"), c.subject.as_deref(), 300))?
            }
            _ => {
                if c.subject.is_some() {
                    problems.add(&at("subject"), Reason::Invalid, "is for email only");
                }
                None
            }
        };
        // A template that does not render for a sample person is refused now, not per person.
        let sample = json!({
            "person": { "id": Uuid::nil(), "first_name": "Ada", "last_name": "Lovelace",
                "email": "ada@example.org", "phone": "+15555550100" },
            "org": { "id": Uuid::nil(), "name": "Org" },
        });
        for (field, text) in [("body", body.as_deref()), ("subject", subject.as_deref())] {
            if let Some(text) = text
                && let Err(e) = render(text, &sample)
            {
                let message = match e {
                    DomainError::Validation(v) => v.first().message.clone(),
                    other => other.to_string(),
                };
                problems.add(&at(field), Reason::Invalid, message);
            }
        }
        let whatsapp_content_sid = match (&c.whatsapp_content_sid, input.channel) {
            (Some(sid), Channel::Whatsapp) => {
                // Like the body: variables that cannot render for a sample person are refused
                // now, not when the broadcast is sent.
                let checked = super::whatsapp::Approved::parse(sid, &c.whatsapp_variables)
                    .and_then(|(sid, _)| {
                        super::whatsapp::Approved {
                            content_sid: sid.clone(),
                            variables: c.whatsapp_variables.clone(),
                        }
                        .render(&sample)
                        .map_err(|e| match e {
                            DomainError::Validation(v) => DomainError::validation(
                                "input.whatsappVariables",
                                v.first().message.clone(),
                            ),
                            other => other,
                        })
                        .map(|_| sid)
                    });
                match checked {
                    Ok(sid) => Some(sid),
                    Err(e) => {
                        let (field, message) = match e {
                            DomainError::Validation(v) => {
                                (v.first().field.clone(), v.first().message.clone())
                            }
                            other => ("input.whatsappContentSid".into(), other.to_string()),
                        };
                        let field = field.trim_start_matches("input.").to_owned();
                        problems.add(&at(&field), Reason::Invalid, message);
                        None
                    }
                }
            }
            (Some(_), _) => {
                problems.add(
                    &at("whatsappContentSid"),
                    Reason::Invalid,
                    "is for WhatsApp only",
                );
                None
            }
            (None, _) => {
                if !c.whatsapp_variables.is_empty() {
                    problems.add(
                        &at("whatsappVariables"),
                        Reason::Invalid,
                        "need the approved template they fill in (whatsappContentSid)",
                    );
                }
                None
            }
        };
        if let (Some(language), Some(body)) = (language, body) {
            contents.push(Content {
                language,
                subject,
                body,
                whatsapp_variables: if whatsapp_content_sid.is_some() {
                    c.whatsapp_variables
                } else {
                    Vec::new()
                },
                whatsapp_content_sid,
            });
        }
    }
    if let Some(at) = input.scheduled_at
        && (at <= now || at > now + chrono::Duration::days(MAX_SCHEDULE_DAYS))
    {
        problems.add(
            "input.scheduledAt",
            Reason::Invalid,
            "must be in the future, within a year",
        );
    }
    problems.finish()?;
    Ok(BroadcastInput {
        name: name.unwrap_or_default(),
        channel: input.channel,
        audience: input.audience,
        contents,
        scheduled_at: input.scheduled_at,
    })
}

/// Creates a draft broadcast. Its audience is checked now, with the caller's rights: the
/// caller needs `people:read` (and `organizing:read` for organizing criteria).
pub async fn create(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    input: BroadcastInput,
) -> DomainResult<broadcasts::Model> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(
            "a broadcast needs a credential for the whole organization".into(),
        ));
    }
    if !scope.holds(Scope::PeopleRead) {
        return Err(DomainError::Forbidden(
            "a broadcast reads its audience: it needs the `people:read` scope too".into(),
        ));
    }
    let now = Utc::now();
    let input = checked(input, now)?;
    let reader = Can::<perm::PeopleRead>::vouched_holding(
        scope,
        if scope.holds(Scope::OrganizingRead) {
            &[Scope::OrganizingRead]
        } else {
            &[]
        },
    );
    people_list::condition(db, &reader, &input.audience).await?;
    let (user, key) = scope.actor_ids();
    let tx = db.begin_write().await?;
    let row = broadcasts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(input.name),
        channel: Set(input.channel.as_str().to_owned()),
        audience: Set(serde_json::to_value(&input.audience).map_err(DomainError::internal)?),
        contents: Set(serde_json::to_value(&input.contents).map_err(DomainError::internal)?),
        status: Set(state::DRAFT.to_owned()),
        paused: Set(false),
        scheduled_at: Set(input.scheduled_at),
        queued_at: Set(None),
        recipients: Set(0),
        created_by_user_id: Set(user),
        created_by_api_key_id: Set(key),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "broadcast.create",
        "broadcast",
        Some(row.id),
        &["name", "channel", "audience", "contents", "scheduled_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<broadcasts::Model> {
    broadcasts::Entity::find_by_id(id)
        .filter(broadcasts::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("broadcast"))
}

pub async fn get(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    id: Uuid,
) -> DomainResult<broadcasts::Model> {
    find(db.conn(), scope, id).await
}

/// The organization's broadcasts, newest first.
pub async fn list(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
) -> DomainResult<Vec<broadcasts::Model>> {
    Ok(broadcasts::Entity::find()
        .filter(broadcasts::Column::OrganizationId.eq(scope.org_id()))
        .order_by_desc(broadcasts::Column::Id)
        .limit(500)
        .all(db.conn())
        .await?)
}

pub fn channel_of(b: &broadcasts::Model) -> DomainResult<Channel> {
    Channel::parse(&b.channel).ok_or_else(|| {
        DomainError::internal(format!("broadcast {} has channel {}", b.id, b.channel))
    })
}

pub fn contents_of(b: &broadcasts::Model) -> DomainResult<Vec<Content>> {
    serde_json::from_value(b.contents.clone()).map_err(DomainError::internal)
}

fn audience_of(b: &broadcasts::Model) -> DomainResult<PersonFilter> {
    serde_json::from_value(b.audience.clone()).map_err(DomainError::internal)
}

/// The content a person reads: their language, its primary subtag, the organization's
/// language, else the first.
fn content_for<'a>(
    contents: &'a [Content],
    person: &people::Model,
    org_language: &str,
) -> Option<&'a Content> {
    let chain = language_chain(person.preferred_language.as_deref(), org_language);
    chain
        .iter()
        .find_map(|l| contents.iter().find(|c| c.language.to_lowercase() == *l))
        .or_else(|| contents.first())
}

/// The audience's reader: the system in the broadcast's organization, holding the organizing
/// scope its criteria were checked with when it was created.
fn reader(b: &broadcasts::Model) -> Can<perm::PeopleRead> {
    Can::vouched_holding(
        &OrgScope::system(b.organization_id),
        &[Scope::OrganizingRead],
    )
}

/// Who a broadcast would reach now.
pub struct Preview {
    /// People matching the audience.
    pub audience: u64,
    /// Those of them with an address and consent for the channel.
    pub reachable: u64,
    /// The message the first reachable person would get.
    pub sample: Option<Sample>,
}

pub struct Sample {
    pub person_id: Uuid,
    pub language: String,
    pub subject: Option<String>,
    pub body: String,
}

/// The condition "may get a broadcast on `channel`": an address and that channel's consent.
fn reachable(channel: Channel) -> sea_orm::Condition {
    let present = |col: people::Column| {
        sea_orm::Condition::all()
            .add(col.is_not_null())
            .add(col.ne(""))
    };
    match channel {
        Channel::Email => present(people::Column::Email).add(people::Column::EmailConsent.eq(true)),
        Channel::Sms => present(people::Column::Phone).add(people::Column::SmsConsent.eq(true)),
        Channel::Whatsapp => {
            present(people::Column::Phone).add(people::Column::WhatsappConsent.eq(true))
        }
    }
}

/// Counts the audience and renders a sample (three statements).
pub async fn preview(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    id: Uuid,
    links: &PublicLinks,
) -> DomainResult<Preview> {
    use sea_orm::PaginatorTrait;
    let b = find(db.conn(), scope, id).await?;
    let channel = channel_of(&b)?;
    let cond = people_list::condition(db, &reader(&b), &audience_of(&b)?).await?;
    let audience = people::Entity::find()
        .filter(cond.clone())
        .count(db.conn())
        .await?;
    let reach = cond.add(reachable(channel));
    let reachable = people::Entity::find()
        .filter(reach.clone())
        .count(db.conn())
        .await?;
    let first = people::Entity::find()
        .filter(reach)
        .order_by_asc(people::Column::Id)
        .one(db.conn())
        .await?;
    let sample = match first {
        Some(person) => {
            let org = organization(db.conn(), b.organization_id).await?;
            let contents = contents_of(&b)?;
            render_for(&contents, channel, &org, &person, "<token>", links)?.map(
                |Rendered {
                     content,
                     subject,
                     body,
                     ..
                 }| Sample {
                    person_id: person.id,
                    language: content.language.clone(),
                    subject,
                    body,
                },
            )
        }
        None => None,
    };
    Ok(Preview {
        audience,
        reachable,
        sample,
    })
}

async fn organization<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> DomainResult<organizations::Model> {
    organizations::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("organization"))
}

/// One person's message of a broadcast.
struct Rendered<'a> {
    content: &'a Content,
    subject: Option<String>,
    /// An email's ends with its unsubscribe link.
    body: String,
    /// WhatsApp: the approved template for outside the person's window.
    approved: Option<super::whatsapp::Rendered>,
}

/// A person's subject and body, in their language.
fn render_for<'a>(
    contents: &'a [Content],
    channel: Channel,
    org: &organizations::Model,
    person: &people::Model,
    token: &str,
    links: &PublicLinks,
) -> DomainResult<Option<Rendered<'a>>> {
    let Some(content) = content_for(contents, person, &org.default_language) else {
        return Ok(None);
    };
    let ctx = context(org, person);
    let subject = match (&content.subject, channel) {
        (Some(s), Channel::Email) => Some(render(s, &ctx)?),
        _ => None,
    };
    let mut body = render(&content.body, &ctx)?;
    if channel == Channel::Email {
        body.push_str(&format!(
            "\n\n--\nYou get this because you signed up with {}. Unsubscribe: {}\n",
            org.name,
            links.unsubscribe(token)
        ));
    }
    let approved = match (&content.whatsapp_content_sid, channel) {
        (Some(sid), Channel::Whatsapp) => Some(
            super::whatsapp::Approved {
                content_sid: sid.clone(),
                variables: content.whatsapp_variables.clone(),
            }
            .render(&ctx)?,
        ),
        _ => None,
    };
    Ok(Some(Rendered {
        content,
        subject,
        body,
        approved,
    }))
}

/// Sends a draft: now (its messages are queued by the worker), or at its scheduled time.
pub async fn send(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<broadcasts::Model> {
    let tx = db.begin_write().await?;
    let b = find(&tx, scope, id).await?;
    if b.status != state::DRAFT {
        return Err(DomainError::Conflict(format!(
            "the broadcast is {}: only a draft can be sent",
            b.status
        )));
    }
    let now = Utc::now();
    let later = b.scheduled_at.is_some_and(|at| at > now);
    let next = if later {
        state::SCHEDULED
    } else {
        state::QUEUING
    };
    // Only from `draft`, in one statement: of two sends racing, one wins and the other is a
    // conflict, so the broadcast starts once.
    let moved = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::Status, Expr::value(next))
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::Status.eq(state::DRAFT))
        .exec(&tx)
        .await?
        .rows_affected;
    if moved != 1 {
        return Err(DomainError::Conflict(
            "the broadcast was sent meanwhile: only a draft can be sent".into(),
        ));
    }
    let row = find(&tx, scope, id).await?;
    if !later {
        started(&tx, &row).await?;
    }
    audit::record(
        &tx,
        scope,
        ctx,
        "broadcast.send",
        "broadcast",
        Some(id),
        &["status"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

async fn started<C: ConnectionTrait>(conn: &C, b: &broadcasts::Model) -> DomainResult<()> {
    outbox::record(
        conn,
        &OrgScope::system(b.organization_id),
        DomainEvent::BroadcastStarted {
            broadcast_id: b.id,
            channel: b.channel.clone(),
        },
    )
    .await?;
    Ok(())
}

/// Starts the scheduled broadcasts whose time has come (the scheduler's tick); how many.
pub async fn start_due(db: &Db, now: DateTime<Utc>) -> DomainResult<usize> {
    let due = broadcasts::Entity::find()
        .filter(broadcasts::Column::Status.eq(state::SCHEDULED))
        .filter(broadcasts::Column::ScheduledAt.lte(now))
        .limit(100)
        .all(db.conn())
        .await?;
    let mut started_count = 0;
    for b in due {
        let tx = db.begin_write().await?;
        // Only from `scheduled`: a cancel in between wins, and a second process starts none.
        let moved = broadcasts::Entity::update_many()
            .col_expr(broadcasts::Column::Status, Expr::value(state::QUEUING))
            .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
            .filter(broadcasts::Column::Id.eq(b.id))
            .filter(broadcasts::Column::Status.eq(state::SCHEDULED))
            .exec(&tx)
            .await?
            .rows_affected;
        if moved == 1 {
            started(&tx, &b).await?;
            started_count += 1;
        }
        tx.commit().await?;
    }
    Ok(started_count)
}

/// Holds (`paused: true`) or releases the delivery of a broadcast's queued messages.
pub async fn set_paused(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    id: Uuid,
    paused: bool,
) -> DomainResult<broadcasts::Model> {
    let tx = db.begin_write().await?;
    let b = find(&tx, scope, id).await?;
    if b.status == state::CANCELLED || b.status == state::DRAFT {
        return Err(DomainError::Conflict(format!(
            "the broadcast is {}: only a sent or scheduled one can be paused or resumed",
            b.status
        )));
    }
    let mut row: broadcasts::ActiveModel = b.into();
    row.paused = Set(paused);
    row.updated_at = Set(Utc::now());
    let row = row.update(&tx).await?;
    let action = if paused {
        "broadcast.pause"
    } else {
        "broadcast.resume"
    };
    audit::record(&tx, scope, ctx, action, "broadcast", Some(id), &["paused"]).await?;
    tx.commit().await?;
    Ok(row)
}

/// Cancels a broadcast: whatever of it is not yet sent never will be.
pub async fn cancel(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<broadcasts::Model> {
    let tx = db.begin_write().await?;
    let b = find(&tx, scope, id).await?;
    if b.status == state::CANCELLED {
        return Err(DomainError::Conflict(
            "the broadcast is already cancelled".into(),
        ));
    }
    let now = Utc::now();
    let mut row: broadcasts::ActiveModel = b.into();
    row.status = Set(state::CANCELLED.to_owned());
    row.updated_at = Set(now);
    let row = row.update(&tx).await?;
    messages::Entity::update_many()
        .col_expr(messages::Column::Status, Expr::value(status::CANCELLED))
        .col_expr(messages::Column::Error, Expr::value("broadcast cancelled"))
        .col_expr(messages::Column::UpdatedAt, Expr::value(now))
        .filter(messages::Column::BroadcastId.eq(id))
        .filter(messages::Column::Status.eq(status::QUEUED))
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "broadcast.cancel",
        "broadcast",
        Some(id),
        &["status"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The count of a broadcast's messages in each state, per broadcast (one statement).
pub async fn progress(
    db: &Db,
    scope: &Can<perm::MessagesSend>,
    ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, HashMap<String, u64>>> {
    let rows: Vec<(Option<Uuid>, String, i64)> = messages::Entity::find()
        .select_only()
        .column(messages::Column::BroadcastId)
        .column(messages::Column::Status)
        .column_as(messages::Column::Id.count(), "n")
        .filter(messages::Column::OrganizationId.eq(scope.org_id()))
        .filter(messages::Column::BroadcastId.is_in(ids.iter().copied()))
        .group_by(messages::Column::BroadcastId)
        .group_by(messages::Column::Status)
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, HashMap<String, u64>> = HashMap::new();
    for (id, state, n) in rows {
        if let Some(id) = id {
            out.entry(id)
                .or_default()
                .insert(state, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(out)
}

/// What delivery does with a queued message of a broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    Send,
    /// The broadcast is paused: wait.
    Wait,
    /// The broadcast was cancelled (the message was queued by a page that committed after
    /// the cancel): never send it.
    Drop,
}

pub async fn hold(db: &Db, broadcast_id: Uuid) -> DomainResult<Hold> {
    let b = broadcasts::Entity::find_by_id(broadcast_id)
        .one(db.conn())
        .await?;
    Ok(match b {
        Some(b) if b.status == state::CANCELLED => Hold::Drop,
        Some(b) if b.paused => Hold::Wait,
        _ => Hold::Send,
    })
}

/// Queues the messages of a broadcast that is `queuing` (the dispatch job of its
/// `broadcast.started`): a page of the audience per transaction, skipping people who have its
/// message already, then `sent` and `broadcast.sent`. Safe to run again after a crash.
pub async fn queue(db: &Db, broadcast_id: Uuid, links: &PublicLinks) -> DomainResult<()> {
    let Some(b) = broadcasts::Entity::find_by_id(broadcast_id)
        .one(db.conn())
        .await?
    else {
        return Ok(());
    };
    if b.status != state::QUEUING {
        return Ok(());
    }
    let channel = channel_of(&b)?;
    let contents = contents_of(&b)?;
    let audience = audience_of(&b)?;
    let org = organization(db.conn(), b.organization_id).await?;
    let scope = OrgScope::system(b.organization_id);
    let reader = reader(&b);
    let mut after: Option<PersonCursor> = None;
    loop {
        let still = broadcasts::Entity::find_by_id(b.id).one(db.conn()).await?;
        if still.is_none_or(|s| s.status != state::QUEUING) {
            return Ok(()); // cancelled meanwhile
        }
        let page = people_list::list(
            db,
            &reader,
            &audience,
            PersonSort::CreatedAsc,
            PAGE,
            after.as_ref(),
        )
        .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
        let tx = db.begin_write().await?;
        let has: HashSet<Uuid> = messages::Entity::find()
            .select_only()
            .column(messages::Column::PersonId)
            .filter(messages::Column::BroadcastId.eq(b.id))
            .filter(messages::Column::PersonId.is_in(ids.iter().copied()))
            .into_tuple::<Option<Uuid>>()
            .all(&tx)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let now = Utc::now();
        let mut rows = Vec::new();
        let mut events = Vec::new();
        for person in page.items.iter().filter(|p| !has.contains(&p.id)) {
            let token = (channel == Channel::Email).then(|| random_code(32));
            let Some(Rendered {
                content,
                subject,
                body,
                approved,
            }) = render_for(
                &contents,
                channel,
                &org,
                person,
                token.as_deref().unwrap_or(""),
                links,
            )?
            else {
                continue;
            };
            let (to_address, refusal) = match address_of(channel, person) {
                Ok(addr) => (addr, consent_problem_for(channel, Some(person), true)),
                Err(reason) => (String::new(), Some(reason)),
            };
            let id = Uuid::now_v7();
            if refusal.is_none() {
                events.push(DomainEvent::MessageQueued {
                    message_id: id,
                    person_id: Some(person.id),
                    channel: channel.as_str().to_owned(),
                });
            }
            rows.push(messages::ActiveModel {
                id: Set(id),
                organization_id: Set(b.organization_id),
                person_id: Set(Some(person.id)),
                channel: Set(channel.as_str().to_owned()),
                template: Set(None),
                language: Set(Some(content.language.clone())),
                subject: Set(subject),
                body: Set(body),
                to_address: Set(to_address),
                status: Set(if refusal.is_some() {
                    status::BLOCKED
                } else {
                    status::QUEUED
                }
                .to_owned()),
                provider: Set(None),
                provider_id: Set(None),
                error: Set(refusal),
                attempts: Set(0),
                idempotency_key: Set(Some(format!("broadcast:{}:{}", b.id, person.id))),
                send_after: Set(Some(now)),
                sent_at: Set(None),
                purpose: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                broadcast_id: Set(Some(b.id)),
                public_token: Set(token),
                content_sid: Set(approved.as_ref().map(|a| a.content_sid.clone())),
                content_variables: Set(approved.map(|a| a.variables)),
            });
        }
        for chunk in rows.chunks(INSERT_CHUNK) {
            messages::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&tx)
                .await?;
        }
        outbox::record_many(&tx, &scope, events).await?;
        tx.commit().await?;
        after = page
            .items
            .last()
            .map(|p| PersonSort::CreatedAsc.cursor_of(p));
        if !page.has_next_page {
            break;
        }
    }
    finish(db, &b).await
}

/// `queuing` → `sent`, with the counts and `broadcast.sent`, once.
async fn finish(db: &Db, b: &broadcasts::Model) -> DomainResult<()> {
    let scope = Can::<perm::MessagesSend>::vouched(&OrgScope::system(b.organization_id));
    let counts = progress(db, &scope, &[b.id]).await?;
    let counts = counts.get(&b.id);
    let count = |s: &str| counts.and_then(|c| c.get(s)).copied().unwrap_or(0);
    let total: u64 = counts.map(|c| c.values().sum()).unwrap_or(0);
    let blocked = count(status::BLOCKED);
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let moved = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::Status, Expr::value(state::SENT))
        .col_expr(broadcasts::Column::QueuedAt, Expr::value(now))
        .col_expr(
            broadcasts::Column::Recipients,
            Expr::value(i32::try_from(total).unwrap_or(i32::MAX)),
        )
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
        .filter(broadcasts::Column::Id.eq(b.id))
        .filter(broadcasts::Column::Status.eq(state::QUEUING))
        .exec(&tx)
        .await?
        .rows_affected;
    if moved == 1 {
        outbox::record(
            &tx,
            &scope,
            DomainEvent::BroadcastSent {
                broadcast_id: b.id,
                channel: b.channel.clone(),
                queued: total - blocked,
                blocked,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What an unsubscribe link shows.
pub struct Unsubscribe {
    pub organization_name: String,
    /// The address it unsubscribes, partly hidden (`a***@example.org`).
    pub address: String,
    pub already: bool,
}

fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

async fn by_token(
    db: &Db,
    token: &str,
) -> DomainResult<(messages::Model, people::Model, organizations::Model)> {
    let token = optional_text("token", Some(token), 64)?.unwrap_or_default();
    let message = messages::Entity::find()
        .filter(messages::Column::PublicToken.eq(token))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("unsubscribe link"))?;
    let person = match message.person_id {
        Some(id) => people::Entity::find_by_id(id).one(db.conn()).await?,
        None => None,
    }
    .ok_or(DomainError::not_found("unsubscribe link"))?;
    let org = organization(db.conn(), message.organization_id).await?;
    Ok((message, person, org))
}

/// What the unsubscribe page of `token` says, before the person confirms.
pub async fn unsubscribe_page(db: &Db, token: &str) -> DomainResult<Unsubscribe> {
    let (message, person, org) = by_token(db, token).await?;
    Ok(Unsubscribe {
        organization_name: org.name,
        address: masked(&message.to_address),
        already: !person.email_consent,
    })
}

/// Withdraws the email consent of the person a broadcast email went to (the page's button, or
/// a mail client's RFC 8058 one-click POST). Saying it twice changes nothing.
pub async fn unsubscribe(db: &Db, token: &str, ctx: &RequestContext) -> DomainResult<Unsubscribe> {
    let (message, person, org) = by_token(db, token).await?;
    let scope = OrgScope::system(org.id);
    if person.email_consent {
        let tx = db.begin_write().await?;
        let now = Utc::now();
        people::Entity::update_many()
            .col_expr(people::Column::EmailConsent, Expr::value(false))
            .col_expr(people::Column::EmailConsentAt, Expr::value(now))
            .col_expr(
                people::Column::EmailConsentSource,
                Expr::value("unsubscribe_link"),
            )
            .col_expr(people::Column::UpdatedAt, Expr::value(now))
            .filter(people::Column::Id.eq(person.id))
            .exec(&tx)
            .await?;
        outbox::record(
            &tx,
            &scope,
            DomainEvent::PersonConsentChanged {
                person_id: person.id,
                channels: vec!["email".into()],
                consent: false,
                source: "unsubscribe_link".into(),
            },
        )
        .await?;
        audit::record(
            &tx,
            &scope,
            ctx,
            "person.unsubscribe",
            "person",
            Some(person.id),
            &["email_consent"],
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Unsubscribe {
        organization_name: org.name,
        address: masked(&message.to_address),
        already: !person.email_consent,
    })
}
