//! The transactional outbox: everything that happens is a `domain_events` row, written in the
//! same transaction as the change it describes. The workers' relay turns committed rows into
//! jobs; nothing here talks to a queue.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use turnout_entity::domain_events;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;

pub mod catalogue;
pub use catalogue::{DomainEvent, RsvpRef};

/// The kinds of domain events, as stored and as matched by automations and webhooks. Each has
/// its payload in [`catalogue`].
pub mod kinds {
    pub const PERSON_SIGNED_UP: &str = "person.signed_up";
    pub const PERSON_MERGED: &str = "person.merged";
    pub const PERSON_REFERRED: &str = "person.referred";
    pub const PERSON_CREATED: &str = "person.created";
    pub const PERSON_CUSTOM_FIELDS_CHANGED: &str = "person.custom_fields_changed";
    pub const PERSON_UPDATED: &str = "person.updated";
    pub const PERSON_ARCHIVED: &str = "person.archived";
    pub const PERSON_RESTORED: &str = "person.restored";
    pub const PEOPLE_TAGGED_IN_BULK: &str = "people.tagged_in_bulk";
    pub const PEOPLE_UNTAGGED_IN_BULK: &str = "people.untagged_in_bulk";
    pub const NOTE_ADDED: &str = "note.added";
    pub const TASK_COMPLETED: &str = "task.completed";
    pub const TASK_REASSIGNED: &str = "task.reassigned";
    pub const IMPORT_COMPLETED: &str = "import.completed";
    pub const RSVP_CONFIRMED: &str = "rsvp.confirmed";
    pub const RSVP_NO_SHOW: &str = "rsvp.no_show";
    pub const RSVP_CHECK_IN_UNDONE: &str = "rsvp.check_in_undone";
    pub const RSVP_CREATED: &str = "rsvp.created";
    pub const RSVP_CANCELLED: &str = "rsvp.cancelled";
    pub const RSVP_PROMOTED: &str = "rsvp.promoted";
    pub const SHIFT_CHECKED_IN: &str = "shift.checked_in";
    pub const EVENT_CHANGED: &str = "event.changed";
    pub const SHIFT_REMINDER_DUE: &str = "shift.reminder_due";
    pub const SHIFT_MISSED: &str = "shift.missed";
    pub const SHIFT_ATTENDED: &str = "shift.attended";
    pub const WEBHOOK_ENDPOINT_DISABLED: &str = "webhook_endpoint.disabled";
    // Emitted by automation effects (with the triggering event as causation).
    pub const PERSON_TAG_ADDED: &str = "person.tag_added";
    pub const PERSON_TAG_REMOVED: &str = "person.tag_removed";
    pub const PERSON_CUSTOM_FIELD_SET: &str = "person.custom_field_set";
    pub const PERSON_LADDER_STAGE_CHANGED: &str = "person.ladder_stage_changed";
    pub const PERSON_ASSESSED: &str = "person.assessed";
    pub const PERSON_POINT_PERSON_ASSIGNED: &str = "person.point_person_assigned";
    pub const TASK_CREATED: &str = "task.created";
    pub const SHIFT_RSVPED: &str = "shift.rsvped";
    /// A message was queued; the relay hands it to the delivery job (subject: the message).
    pub const MESSAGE_QUEUED: &str = "message.queued";
    pub const MESSAGE_SENT: &str = "message.sent";
    pub const MESSAGE_DELIVERED: &str = "message.delivered";
    pub const MESSAGE_FAILED: &str = "message.failed";
    /// A person's SMS or WhatsApp message to the organization (the inbox).
    pub const MESSAGE_RECEIVED: &str = "message.received";
    /// A person's SMS or WhatsApp consent changed by their reply (STOP/START).
    pub const PERSON_CONSENT_CHANGED: &str = "person.consent_changed";
    // Union organizing (`organizing:read` to see them).
    pub const CARD_SIGNED: &str = "card.signed";
    pub const PETITION_SIGNED: &str = "petition.signed";
    pub const CAMPAIGN_LEADER_CHANGED: &str = "campaign.leader_changed";
    pub const RELATIONSHIP_ADDED: &str = "relationship.added";
    pub const RELATIONSHIP_REMOVED: &str = "relationship.removed";
    pub const EMPLOYMENT_CHANGED: &str = "employment.changed";
    /// A broadcast started queuing its messages (the dispatch job queues them).
    pub const BROADCAST_STARTED: &str = "broadcast.started";
    pub const BROADCAST_SENT: &str = "broadcast.sent";
}

/// How far a chain of events may go: an event caused by an event caused by … stops here.
pub const MAX_DEPTH: i32 = 5;

/// The event that caused the one being recorded (an automation's effect, a cron sweep).
#[derive(Clone, Copy, Debug)]
pub struct Cause {
    pub event_id: Uuid,
    pub depth: i32,
}

/// Records `event` in the caller's transaction.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event: DomainEvent,
) -> DomainResult<Uuid> {
    insert(conn, scope, &event, event.payload(), None).await
}

/// Records `event`, caused by another; it carries the cause's depth + 1.
pub async fn record_caused<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event: DomainEvent,
    cause: Option<Cause>,
) -> DomainResult<Uuid> {
    insert(conn, scope, &event, event.payload(), cause).await
}

/// Records `event`, caused by `cause` through an effect of automation `automation_id`, which
/// its payload names.
pub(crate) async fn record_by_automation<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event: DomainEvent,
    cause: Cause,
    automation_id: Uuid,
) -> DomainResult<Uuid> {
    let mut payload = event.payload();
    if let Some(obj) = payload.as_object_mut() {
        obj.insert("automation_id".into(), serde_json::json!(automation_id));
    }
    insert(conn, scope, &event, payload, Some(cause)).await
}

/// Records many events in one multi-row statement per 500 (a broadcast's `message.queued`).
pub(crate) async fn record_many<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    events: Vec<DomainEvent>,
) -> DomainResult<()> {
    let now = Utc::now();
    let rows: Vec<domain_events::ActiveModel> = events
        .iter()
        .map(|event| {
            let (subject_type, subject_id) = event.subject();
            domain_events::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(scope.org_id()),
                kind: Set(event.kind().to_owned()),
                subject_type: Set(subject_type.to_owned()),
                subject_id: Set(subject_id),
                payload: Set(event.payload()),
                occurred_at: Set(now),
                causation_id: Set(None),
                depth: Set(0),
                dispatched_at: Set(None),
                processed_at: Set(None),
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        domain_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event: &DomainEvent,
    payload: serde_json::Value,
    cause: Option<Cause>,
) -> DomainResult<Uuid> {
    let (subject_type, subject_id) = event.subject();
    let kind = event.kind();
    let id = Uuid::now_v7();
    domain_events::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        kind: Set(kind.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(subject_id),
        payload: Set(payload),
        occurred_at: Set(Utc::now()),
        causation_id: Set(cause.map(|c| c.event_id)),
        depth: Set(cause.map_or(0, |c| c.depth + 1)),
        dispatched_at: Set(None),
        processed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Ids of committed events ready to dispatch, oldest first. An event waits while an earlier
/// event about the same subject is still unprocessed, so handlers see a subject's events in
/// order.
pub async fn ready_to_dispatch<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> DomainResult<Vec<domain_events::Model>> {
    use domain_events::Column as C;
    let earlier = Query::select()
        .expr(Expr::val(1))
        .from_as(domain_events::Entity, "earlier")
        .and_where(
            Expr::col(("earlier", C::SubjectId)).equals((domain_events::Entity, C::SubjectId)),
        )
        .and_where(Expr::col(("earlier", C::Id)).lt(Expr::col((domain_events::Entity, C::Id))))
        .and_where(Expr::col(("earlier", C::ProcessedAt)).is_null())
        .to_owned();
    Ok(domain_events::Entity::find()
        .filter(C::DispatchedAt.is_null())
        .filter(Expr::exists(earlier).not())
        .order_by_asc(C::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Marks events as handed to the job queue.
pub async fn mark_dispatched<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> DomainResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    domain_events::Entity::update_many()
        .col_expr(domain_events::Column::DispatchedAt, Expr::val(Utc::now()))
        .filter(domain_events::Column::Id.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Marks an event as fully handled: the next event about its subject may go.
pub async fn mark_processed(db: &Db, id: Uuid) -> DomainResult<()> {
    domain_events::Entity::update_many()
        .col_expr(domain_events::Column::ProcessedAt, Expr::val(Utc::now()))
        .filter(domain_events::Column::Id.eq(id))
        .filter(domain_events::Column::ProcessedAt.is_null())
        .exec(db.conn())
        .await?;
    Ok(())
}

pub async fn get(db: &Db, id: Uuid) -> DomainResult<Option<domain_events::Model>> {
    Ok(domain_events::Entity::find_by_id(id).one(db.conn()).await?)
}

/// Begins the relay's transaction, as the only relay in the cluster: on PostgreSQL it holds an
/// advisory lock until commit, and `None` means another node's relay has this round; on SQLite
/// a write transaction already excludes every other writer.
pub async fn begin_relay(db: &Db) -> DomainResult<Option<DatabaseTransaction>> {
    if db.backend() != DatabaseBackend::Postgres {
        return Ok(Some(db.begin_write().await?));
    }
    let txn = db.conn().begin().await?;
    let row = txn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK_KEY}) AS locked"),
        ))
        .await?;
    let locked = match row {
        Some(row) => row.try_get::<bool>("", "locked")?,
        None => false,
    };
    if locked {
        Ok(Some(txn))
    } else {
        txn.rollback().await?;
        Ok(None)
    }
}

/// The advisory lock key of the relay ("TRNT" in ASCII).
const RELAY_LOCK_KEY: i64 = 0x5452_4e54;

// --- The live feed: reading committed events for GraphQL subscriptions. ---

/// The newest committed event of any organization: where a live feed starts.
pub async fn latest_event_id(db: &Db) -> DomainResult<Option<Uuid>> {
    Ok(domain_events::Entity::find()
        .select_only()
        .column(domain_events::Column::Id)
        .order_by_desc(domain_events::Column::Id)
        .limit(1)
        .into_tuple::<Uuid>()
        .one(db.conn())
        .await?)
}

/// Committed events of every organization with an id greater than `after` (all when `None`),
/// oldest first, at most `limit`. UUIDv7 ids are time-ordered, and SQLite commits one writer
/// at a time, so this is what the single-process live feed polls.
pub async fn events_after(
    db: &Db,
    after: Option<Uuid>,
    limit: u64,
) -> DomainResult<Vec<domain_events::Model>> {
    let mut query = domain_events::Entity::find();
    if let Some(after) = after {
        query = query.filter(domain_events::Column::Id.gt(after));
    }
    Ok(query
        .order_by_asc(domain_events::Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// The events with these ids (of any organization), oldest first; unknown ids are skipped.
pub async fn events_by_ids(db: &Db, ids: &[Uuid]) -> DomainResult<Vec<domain_events::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(domain_events::Entity::find()
        .filter(domain_events::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(domain_events::Column::Id)
        .all(db.conn())
        .await?)
}

/// The scope a caller needs to see events of `kind` in a live feed: events about people need
/// `people:read`; about events, shifts and RSVPs `events:read`; about messages and broadcasts
/// `messages:send`; about webhooks `webhooks:write`; anything else `admin`.
pub fn read_scope(kind: &str) -> crate::auth::Scope {
    use crate::auth::Scope;
    match kind.split_once('.').map_or(kind, |(prefix, _)| prefix) {
        "card" | "petition" | "campaign" | "relationship" | "employment" => Scope::OrganizingRead,
        "person" | "people" | "note" | "task" | "import" => Scope::PeopleRead,
        "rsvp" | "shift" | "event" => Scope::EventsRead,
        "webhook_endpoint" => Scope::WebhooksWrite,
        "broadcast" | "message" => Scope::MessagesSend,
        _ => Scope::Admin,
    }
}

/// The scope a caller needs to see this one event: [`read_scope`] of its kind, except that an
/// assessment in an organizing campaign (`person.assessed` with a `campaign_id`) needs
/// `organizing:read`, like every other organizing event.
pub fn event_read_scope(kind: &str, payload: &serde_json::Value) -> crate::auth::Scope {
    if is_organizing(kind, payload) {
        crate::auth::Scope::OrganizingRead
    } else {
        read_scope(kind)
    }
}

/// Whether an event is organizing data (workplaces, assessments, relationships): those reach
/// only `organizing:read` holders, and webhooks only when the endpoint names the kind (`*`
/// never matches them), so an assessment does not leave Turnout by accident.
pub fn is_organizing(kind: &str, payload: &serde_json::Value) -> bool {
    read_scope(kind) == crate::auth::Scope::OrganizingRead
        || (kind == kinds::PERSON_ASSESSED
            && payload.get("campaign_id").is_some_and(|c| !c.is_null()))
}

/// The kinds that may carry organizing data, which only an `organizing:read` holder may
/// subscribe a webhook to.
pub fn may_carry_organizing(kind: &str) -> bool {
    kind == kinds::PERSON_ASSESSED || read_scope(kind) == crate::auth::Scope::OrganizingRead
}

/// The PostgreSQL channel the `domain_events` insert trigger NOTIFYs, with payload
/// `"<organization_id>:<event_id>"`, when the inserting transaction commits.
pub const NOTIFY_CHANNEL: &str = "turnout_domain_events";

/// A LISTEN on [`NOTIFY_CHANNEL`]: the ids of events as other connections (of this or any
/// other process) commit them. PostgreSQL only.
pub struct EventListener {
    listener: sea_orm::sqlx::postgres::PgListener,
}

impl EventListener {
    /// Starts listening on a connection of `db`'s pool; `None` on SQLite, which has no NOTIFY.
    pub async fn connect(db: &Db) -> DomainResult<Option<Self>> {
        if db.backend() != DatabaseBackend::Postgres {
            return Ok(None);
        }
        let pool = db.conn().get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|e| crate::DomainError::internal(format!("listen: {e}")))?;
        listener
            .listen(NOTIFY_CHANNEL)
            .await
            .map_err(|e| crate::DomainError::internal(format!("listen: {e}")))?;
        Ok(Some(Self { listener }))
    }

    /// Waits for the next committed events and returns their ids, with those already
    /// buffered behind the first (at most `max`). `Ok(None)`: the connection was lost and has
    /// been re-established; notifications sent meanwhile are lost, so the caller catches up
    /// by reading the table.
    pub async fn next_batch(&mut self, max: usize) -> DomainResult<Option<Vec<Uuid>>> {
        let first = self
            .listener
            .try_recv()
            .await
            .map_err(|e| crate::DomainError::internal(format!("listen: {e}")))?;
        let Some(first) = first else {
            return Ok(None);
        };
        let mut ids = Vec::new();
        ids.extend(parse_notification(first.payload()));
        while ids.len() < max {
            let Some(next) = self.listener.next_buffered() else {
                break;
            };
            ids.extend(parse_notification(next.payload()));
        }
        Ok(Some(ids))
    }
}

/// The event id of a `"<organization_id>:<event_id>"` notification payload.
fn parse_notification(payload: &str) -> Option<Uuid> {
    let (_, id) = payload.split_once(':')?;
    Uuid::parse_str(id).ok()
}
