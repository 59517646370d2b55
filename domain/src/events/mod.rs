//! Events and their shifts. An event (a canvass, a phone bank, a meeting) has a title, a time
//! zone, a place or a link, a visibility and reminder offsets; people RSVP to its shifts (the
//! time slots, each with an optional capacity). Every change is validated first, then written
//! in one transaction with its audit record and an `event.changed` domain event.
//!
//! Each shift has a host link: an unguessable token, shown once to staff and stored only as its
//! SHA-256, which lets whoever holds it see the shift's roster and check people in.

pub mod ics;
pub mod listing;
pub mod rsvps;

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use turnout_entity::{events, shifts};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::auth::{OrgScope, hash_secret, random_token};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox;
use crate::people::{Page, PageRequest};
use crate::values::{optional_text, required_text};

/// Reminders sent before a shift when the event does not say otherwise: a day and two hours.
pub const DEFAULT_REMINDER_OFFSETS: [i32; 2] = [1440, 120];
/// Most shifts one event may be created with at once.
const MAX_SHIFTS_PER_CREATE: usize = 100;

/// Who may see an event without a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone may read it and RSVP to its shifts.
    Public,
    /// Staff only; people are RSVPed by staff.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Public, Self::Private]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Whether an event still happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    Active,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Cancelled]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A new shift: a time slot of an event.
#[derive(Clone, Debug)]
pub struct NewShift {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `None` is unlimited.
    pub capacity: Option<i32>,
}

/// A new event with its first shifts.
#[derive(Clone, Debug)]
pub struct NewEvent {
    /// `None`: the whole organization's, or a chapter-limited caller's first chapter.
    pub chapter_id: Option<Uuid>,
    pub title: String,
    pub description: Option<String>,
    /// An IANA time zone name (`America/New_York`); `None`: the organization's.
    pub time_zone: Option<String>,
    pub location: Option<String>,
    pub virtual_url: Option<String>,
    pub visibility: Visibility,
    /// Minutes before a shift starts; `None` is [`DEFAULT_REMINDER_OFFSETS`].
    pub reminder_offsets_minutes: Option<Vec<i32>>,
    pub shifts: Vec<NewShift>,
}

/// Changes to an event; `None` leaves a field alone, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct EventChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub location: Option<Option<String>>,
    pub virtual_url: Option<Option<String>>,
    pub visibility: Option<Visibility>,
    pub reminder_offsets_minutes: Option<Vec<i32>>,
}

/// Changes to a shift; `capacity: Some(None)` makes it unlimited.
#[derive(Clone, Debug, Default)]
pub struct ShiftChanges {
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub capacity: Option<Option<i32>>,
}

/// A shift with its host token, which exists only in this answer (the row keeps its hash).
#[derive(Clone, Debug)]
pub struct ShiftWithToken {
    pub shift: shifts::Model,
    pub host_token: String,
}

#[derive(Clone, Debug)]
pub struct CreatedEvent {
    pub event: events::Model,
    pub shifts: Vec<ShiftWithToken>,
}

/// Upcoming or past, by the event's shifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Some shift has not ended yet.
    Upcoming,
    /// Every shift has ended (or there are none).
    Past,
}

#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub when: Option<When>,
    pub status: Option<EventStatus>,
}

// --- validation -------------------------------------------------------------------------------

fn validate_time_zone(field: &str, raw: &str) -> DomainResult<String> {
    let name = raw.trim();
    chrono_tz::Tz::from_str(name)
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            DomainError::validation(field, "is not an IANA time zone such as `America/New_York`")
        })
}

/// Free text that may hold line breaks and tabs, but no other control characters.
fn validate_description(field: &str, raw: Option<&str>) -> DomainResult<Option<String>> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > 10_000 {
        return Err(DomainError::validation(
            field,
            "is longer than 10000 characters",
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::validation(
            field,
            "contains control characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

fn validate_url(field: &str, raw: Option<&str>) -> DomainResult<Option<String>> {
    let Some(url) = optional_text(field, raw, 2000)? else {
        return Ok(None);
    };
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || url.len() < 10
        || url.chars().any(char::is_whitespace)
    {
        return Err(DomainError::validation(
            field,
            "must be an http(s) link such as `https://meet.example.org/abc`",
        ));
    }
    Ok(Some(url))
}

fn validate_offsets(field: &str, offsets: &[i32]) -> DomainResult<Vec<i32>> {
    if offsets.len() > 10 {
        return Err(DomainError::validation(
            field,
            "may hold at most 10 offsets",
        ));
    }
    let mut out = Vec::with_capacity(offsets.len());
    for (i, &minutes) in offsets.iter().enumerate() {
        if !(1..=43_200).contains(&minutes) {
            return Err(DomainError::validation(
                format!("{field}[{i}]"),
                "must be between 1 and 43200 minutes (30 days)",
            ));
        }
        if !out.contains(&minutes) {
            out.push(minutes);
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

fn validate_shift_times(
    field: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> DomainResult<()> {
    if ends_at <= starts_at {
        return Err(DomainError::validation(
            format!("{field}.endsAt"),
            "must be after startsAt",
        ));
    }
    if ends_at - starts_at > chrono::Duration::days(14) {
        return Err(DomainError::validation(
            format!("{field}.endsAt"),
            "a shift may last at most 14 days",
        ));
    }
    Ok(())
}

fn validate_capacity(field: &str, capacity: Option<i32>) -> DomainResult<Option<i32>> {
    match capacity {
        Some(c) if c < 1 => Err(DomainError::validation(
            format!("{field}.capacity"),
            "must be at least 1 (or null for unlimited)",
        )),
        other => Ok(other),
    }
}

fn validate_shift(field: &str, new: &NewShift) -> DomainResult<()> {
    validate_shift_times(field, new.starts_at, new.ends_at)?;
    validate_capacity(field, new.capacity)?;
    Ok(())
}

// --- visibility -------------------------------------------------------------------------------

/// The events a scope may see: its organization's, limited to its chapters if it has any.
/// Without a scope (an anonymous reader), only public events.
fn visible_events(scope: Option<&OrgScope>) -> Condition {
    match scope {
        Some(scope) => {
            let cond = Condition::all().add(events::Column::OrganizationId.eq(scope.org_id()));
            match scope.chapters() {
                Some(chapters) => {
                    cond.add(events::Column::ChapterId.is_in(chapters.iter().copied()))
                }
                None => cond,
            }
        }
        // The public sees public events of organizations that are not suspended.
        None => Condition::all()
            .add(events::Column::Visibility.eq(Visibility::Public.as_str()))
            .add(
                events::Column::OrganizationId.not_in_subquery(
                    Query::select()
                        .column(turnout_entity::organizations::Column::Id)
                        .from(turnout_entity::organizations::Entity)
                        .and_where(
                            Expr::col(turnout_entity::organizations::Column::SuspendedAt)
                                .is_not_null(),
                        )
                        .to_owned(),
                ),
            ),
    }
}

fn visible_event_ids(scope: Option<&OrgScope>) -> SelectStatement {
    Query::select()
        .column(events::Column::Id)
        .from(events::Entity)
        .cond_where(visible_events(scope))
        .to_owned()
}

/// The shifts a scope may see: those of the events it may see.
pub(crate) fn visible_shifts(scope: Option<&OrgScope>) -> Condition {
    let cond = Condition::all();
    let cond = match scope {
        Some(scope) => cond.add(shifts::Column::OrganizationId.eq(scope.org_id())),
        None => cond,
    };
    match scope {
        Some(s) if s.chapters().is_none() => cond,
        _ => cond.add(shifts::Column::EventId.in_subquery(visible_event_ids(scope))),
    }
}

// --- reads ------------------------------------------------------------------------------------

/// One event the scope may see (`None`: an anonymous reader, who sees public events only).
pub async fn get_event(
    db: &Db,
    scope: Option<&Can<perm::EventsRead>>,
    id: Uuid,
) -> DomainResult<events::Model> {
    events::Entity::find_by_id(id)
        .filter(visible_events(scope.map(|s| &**s)))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("event"))
}

/// One shift the scope may see (`None`: shifts of public events only).
pub async fn get_shift(
    db: &Db,
    scope: Option<&Can<perm::EventsRead>>,
    id: Uuid,
) -> DomainResult<shifts::Model> {
    shifts::Entity::find_by_id(id)
        .filter(visible_shifts(scope.map(|s| &**s)))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("shift"))
}

/// A page of the organization's events, newest first by creation.
pub async fn list_events(
    db: &Db,
    scope: &Can<perm::EventsRead>,
    filter: &EventFilter,
    page: PageRequest,
) -> DomainResult<Page<events::Model>> {
    let mut cond = events_matching(scope, filter);
    if let Some(after) = page.after {
        cond = cond.add(events::Column::Id.lt(after));
    }
    let items = events::Entity::find()
        .filter(cond)
        .order_by_desc(events::Column::Id)
        .limit(page.first + 1)
        .all(db.conn())
        .await?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many of the organization's events match `filter` (all pages), in one statement.
pub async fn count_events(
    db: &Db,
    scope: &Can<perm::EventsRead>,
    filter: &EventFilter,
) -> DomainResult<u64> {
    Ok(events::Entity::find()
        .filter(events_matching(scope, filter))
        .count(db.conn())
        .await?)
}

/// The events `scope` sees that match `filter`.
fn events_matching(scope: &Can<perm::EventsRead>, filter: &EventFilter) -> Condition {
    let mut cond = visible_events(Some(scope));
    if let Some(status) = filter.status {
        cond = cond.add(events::Column::Status.eq(status.as_str()));
    }
    if let Some(when) = filter.when {
        let upcoming = Query::select()
            .column(shifts::Column::EventId)
            .from(shifts::Entity)
            .and_where(Expr::col(shifts::Column::OrganizationId).eq(scope.org_id()))
            .and_where(Expr::col(shifts::Column::EndsAt).gte(Utc::now()))
            .to_owned();
        cond = cond.add(match when {
            When::Upcoming => events::Column::Id.in_subquery(upcoming),
            When::Past => events::Column::Id.not_in_subquery(upcoming),
        });
    }
    cond
}

/// Events by id, in one query (for DataLoaders). Rows the scope may not see are left out.
pub async fn events_by_ids(
    db: &Db,
    scope: Option<&Can<perm::EventsRead>>,
    ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, events::Model>> {
    Ok(events::Entity::find()
        .filter(visible_events(scope.map(|s| &**s)))
        .filter(events::Column::Id.is_in(ids.iter().copied()))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect())
}

/// Shifts by id, in one query.
pub async fn shifts_by_ids(
    db: &Db,
    scope: Option<&Can<perm::EventsRead>>,
    ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, shifts::Model>> {
    Ok(shifts::Entity::find()
        .filter(visible_shifts(scope.map(|s| &**s)))
        .filter(shifts::Column::Id.is_in(ids.iter().copied()))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

/// The shifts of `event`, by start time, for a caller already allowed to see it (its public
/// page, its RSVP's own page): one query on the event's id, with no visibility subquery.
pub async fn shifts_of_event(db: &Db, event: &events::Model) -> DomainResult<Vec<shifts::Model>> {
    Ok(shifts::Entity::find()
        .filter(shifts::Column::OrganizationId.eq(event.organization_id))
        .filter(shifts::Column::EventId.eq(event.id))
        .order_by_asc(shifts::Column::StartsAt)
        .order_by_asc(shifts::Column::Id)
        .all(db.conn())
        .await?)
}

/// The shifts of each event, by start time, in one query.
pub async fn shifts_of_events(
    db: &Db,
    scope: Option<&Can<perm::EventsRead>>,
    event_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<shifts::Model>>> {
    let rows = shifts::Entity::find()
        .filter(visible_shifts(scope.map(|s| &**s)))
        .filter(shifts::Column::EventId.is_in(event_ids.iter().copied()))
        .order_by_asc(shifts::Column::StartsAt)
        .order_by_asc(shifts::Column::Id)
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, Vec<shifts::Model>> = HashMap::new();
    for shift in rows {
        out.entry(shift.event_id).or_default().push(shift);
    }
    Ok(out)
}

// --- writes -----------------------------------------------------------------------------------

fn new_host_token() -> (String, String) {
    let token = random_token(32);
    let hash = hash_secret(&token);
    (token, hash)
}

/// Locks the shift row for the rest of the transaction. SQLite's write transactions already
/// hold the database's one write lock (`BEGIN IMMEDIATE`); PostgreSQL takes `FOR UPDATE`.
pub(crate) async fn lock_shift(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    id: Uuid,
) -> DomainResult<shifts::Model> {
    let mut query =
        shifts::Entity::find_by_id(id).filter(shifts::Column::OrganizationId.eq(org_id));
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(tx).await?.ok_or(DomainError::not_found("shift"))
}

async fn event_in_tx<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<events::Model> {
    events::Entity::find_by_id(id)
        .filter(visible_events(Some(scope)))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("event"))
}

async fn shift_in_tx(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<(shifts::Model, events::Model)> {
    // Check visibility (chapters) before locking anything.
    let visible = shifts::Entity::find_by_id(id)
        .filter(visible_shifts(Some(scope)))
        .one(tx)
        .await?
        .ok_or(DomainError::not_found("shift"))?;
    let shift = lock_shift(tx, scope.org_id(), visible.id).await?;
    let event = event_in_tx(tx, scope, shift.event_id).await?;
    Ok((shift, event))
}

async fn record_change<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event: &events::Model,
    shift_id: Option<Uuid>,
    change: &str,
    calendar_changed: bool,
) -> DomainResult<()> {
    outbox::record(
        conn,
        scope,
        outbox::DomainEvent::EventChanged {
            event_id: event.id,
            shift_id,
            change: change.to_owned(),
            status: event.status.clone(),
            calendar_changed,
        },
    )
    .await?;
    Ok(())
}

async fn insert_shift<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    event_id: Uuid,
    new: &NewShift,
) -> DomainResult<ShiftWithToken> {
    let (host_token, host_token_hash) = new_host_token();
    let now = Utc::now();
    let shift = shifts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        event_id: Set(event_id),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        capacity: Set(new.capacity),
        host_token_hash: Set(host_token_hash),
        sequence: Set(0),
        cancelled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(ShiftWithToken { shift, host_token })
}

/// The zone of an event that names none: its organization's, which must be set.
async fn organization_time_zone(db: &Db, org_id: Uuid) -> DomainResult<String> {
    let org = turnout_entity::organizations::Entity::find_by_id(org_id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    org.time_zone.ok_or_else(|| {
        DomainError::invalid(
            "input.timeZone",
            crate::error::Reason::Required,
            "is required while the organization has no time zone (updateOrganizationSettings              sets one)",
        )
    })
}

/// Creates an event with its shifts.
pub async fn create_event(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    new: NewEvent,
) -> DomainResult<CreatedEvent> {
    let title = required_text("input.title", Some(&new.title), 200)?;
    let description = validate_description("input.description", new.description.as_deref())?;
    let time_zone = match &new.time_zone {
        Some(zone) => validate_time_zone("input.timeZone", zone)?,
        None => organization_time_zone(db, scope.org_id()).await?,
    };
    let location = optional_text("input.location", new.location.as_deref(), 500)?;
    let virtual_url = validate_url("input.virtualUrl", new.virtual_url.as_deref())?;
    let offsets = match &new.reminder_offsets_minutes {
        Some(o) => validate_offsets("input.reminderOffsetsMinutes", o)?,
        None => DEFAULT_REMINDER_OFFSETS.to_vec(),
    };
    if new.shifts.len() > MAX_SHIFTS_PER_CREATE {
        return Err(DomainError::validation(
            "input.shifts",
            format!("may hold at most {MAX_SHIFTS_PER_CREATE} shifts"),
        ));
    }
    for (i, shift) in new.shifts.iter().enumerate() {
        validate_shift(&format!("input.shifts[{i}]"), shift)?;
    }
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let chapter_id = match new.chapter_id {
        Some(id) => {
            crate::organization::chapters::open_chapter(&tx, scope.org_id(), id, "input.chapterId")
                .await?;
            if scope.chapters().is_some_and(|own| !own.contains(&id)) {
                return Err(DomainError::validation(
                    "input.chapterId",
                    "must be one of the chapters you work in",
                ));
            }
            Some(id)
        }
        None => scope.chapters().and_then(|c| c.first().copied()),
    };
    let event = events::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        chapter_id: Set(chapter_id),
        title: Set(title),
        description: Set(description),
        time_zone: Set(time_zone),
        location: Set(location),
        virtual_url: Set(virtual_url),
        visibility: Set(new.visibility.as_str().to_owned()),
        status: Set(EventStatus::Active.as_str().to_owned()),
        reminder_offsets_minutes: Set(serde_json::json!(offsets)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let mut shifts = Vec::with_capacity(new.shifts.len());
    for shift in &new.shifts {
        shifts.push(insert_shift(&tx, scope, event.id, shift).await?);
    }
    let fields = [
        "title",
        "description",
        "time_zone",
        "location",
        "virtual_url",
        "visibility",
        "reminder_offsets_minutes",
        "shifts",
    ];
    audit::record(
        &tx,
        scope,
        ctx,
        "event.create",
        "event",
        Some(event.id),
        &fields,
    )
    .await?;
    record_change(&tx, scope, &event, None, "created", false).await?;
    tx.commit().await?;
    Ok(CreatedEvent { event, shifts })
}

/// Updates an event. A change to what a calendar shows (title, description, place, link, zone)
/// bumps every shift's sequence, so invites already sent are replaced.
pub async fn update_event(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
    changes: EventChanges,
) -> DomainResult<events::Model> {
    let mut fields: Vec<&str> = Vec::new();
    let title = changes
        .title
        .as_deref()
        .map(|t| required_text("input.title", Some(t), 200))
        .transpose()?;
    let description = changes
        .description
        .as_ref()
        .map(|d| validate_description("input.description", d.as_deref()))
        .transpose()?;
    let time_zone = changes
        .time_zone
        .as_deref()
        .map(|z| validate_time_zone("input.timeZone", z))
        .transpose()?;
    let location = changes
        .location
        .as_ref()
        .map(|l| optional_text("input.location", l.as_deref(), 500))
        .transpose()?;
    let virtual_url = changes
        .virtual_url
        .as_ref()
        .map(|u| validate_url("input.virtualUrl", u.as_deref()))
        .transpose()?;
    let offsets = changes
        .reminder_offsets_minutes
        .as_deref()
        .map(|o| validate_offsets("input.reminderOffsetsMinutes", o))
        .transpose()?;

    let tx = db.begin_write().await?;
    let event = event_in_tx(&tx, scope, id).await?;
    let mut am = event.clone().into_active_model();
    let mut calendar_changed = false;
    // Where and when: what attendees are told about (a new title or description is not).
    let mut place_changed = false;
    if let Some(v) = title {
        calendar_changed |= v != event.title;
        am.title = Set(v);
        fields.push("title");
    }
    if let Some(v) = description {
        calendar_changed |= v != event.description;
        am.description = Set(v);
        fields.push("description");
    }
    if let Some(v) = time_zone {
        calendar_changed |= v != event.time_zone;
        place_changed |= v != event.time_zone;
        am.time_zone = Set(v);
        fields.push("time_zone");
    }
    if let Some(v) = location {
        calendar_changed |= v != event.location;
        place_changed |= v != event.location;
        am.location = Set(v);
        fields.push("location");
    }
    if let Some(v) = virtual_url {
        calendar_changed |= v != event.virtual_url;
        place_changed |= v != event.virtual_url;
        am.virtual_url = Set(v);
        fields.push("virtual_url");
    }
    if let Some(v) = changes.visibility {
        am.visibility = Set(v.as_str().to_owned());
        fields.push("visibility");
    }
    if let Some(v) = offsets {
        am.reminder_offsets_minutes = Set(serde_json::json!(v));
        fields.push("reminder_offsets_minutes");
    }
    am.updated_at = Set(Utc::now());
    let event = am.update(&tx).await?;
    if calendar_changed {
        bump_sequences(&tx, event.id).await?;
    }
    audit::record(
        &tx,
        scope,
        ctx,
        "event.update",
        "event",
        Some(event.id),
        &fields,
    )
    .await?;
    record_change(&tx, scope, &event, None, "updated", place_changed).await?;
    tx.commit().await?;
    Ok(event)
}

async fn bump_sequences(tx: &DatabaseTransaction, event_id: Uuid) -> DomainResult<()> {
    shifts::Entity::update_many()
        .col_expr(
            shifts::Column::Sequence,
            Expr::col(shifts::Column::Sequence).add(1),
        )
        .col_expr(shifts::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shifts::Column::EventId.eq(event_id))
        .exec(tx)
        .await?;
    Ok(())
}

/// Cancels an event and all its shifts (their sequences bump: invites become cancellations).
/// Cancelling a cancelled event changes nothing.
pub async fn cancel_event(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<events::Model> {
    let tx = db.begin_write().await?;
    let event = event_in_tx(&tx, scope, id).await?;
    if event.status == EventStatus::Cancelled.as_str() {
        return Ok(event);
    }
    let now = Utc::now();
    let mut am = event.into_active_model();
    am.status = Set(EventStatus::Cancelled.as_str().to_owned());
    am.updated_at = Set(now);
    let event = am.update(&tx).await?;
    shifts::Entity::update_many()
        .col_expr(shifts::Column::CancelledAt, Expr::value(now))
        .col_expr(
            shifts::Column::Sequence,
            Expr::col(shifts::Column::Sequence).add(1),
        )
        .col_expr(shifts::Column::UpdatedAt, Expr::value(now))
        .filter(shifts::Column::EventId.eq(event.id))
        .filter(shifts::Column::CancelledAt.is_null())
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "event.cancel",
        "event",
        Some(event.id),
        &["status"],
    )
    .await?;
    record_change(&tx, scope, &event, None, "cancelled", true).await?;
    tx.commit().await?;
    Ok(event)
}

/// Adds a shift to an event that is not cancelled.
pub async fn add_shift(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    event_id: Uuid,
    new: NewShift,
) -> DomainResult<ShiftWithToken> {
    validate_shift("input", &new)?;
    let tx = db.begin_write().await?;
    let event = event_in_tx(&tx, scope, event_id).await?;
    if event.status == EventStatus::Cancelled.as_str() {
        return Err(DomainError::Conflict(
            "the event is cancelled; shifts cannot be added to it".into(),
        ));
    }
    let created = insert_shift(&tx, scope, event.id, &new).await?;
    let fields = ["starts_at", "ends_at", "capacity"];
    audit::record(
        &tx,
        scope,
        ctx,
        "shift.create",
        "shift",
        Some(created.shift.id),
        &fields,
    )
    .await?;
    record_change(
        &tx,
        scope,
        &event,
        Some(created.shift.id),
        "shift_added",
        false,
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes a shift's times or capacity. New times bump its sequence (calendars update); more
/// capacity promotes people from the waitlist in the same transaction.
pub async fn update_shift(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
    changes: ShiftChanges,
) -> DomainResult<shifts::Model> {
    if let Some(capacity) = changes.capacity {
        validate_capacity("input", capacity)?;
    }
    let tx = db.begin_write().await?;
    let (shift, event) = shift_in_tx(&tx, scope, id).await?;
    if shift.cancelled_at.is_some() {
        return Err(DomainError::Conflict("the shift is cancelled".into()));
    }
    let starts_at = changes.starts_at.unwrap_or(shift.starts_at);
    let ends_at = changes.ends_at.unwrap_or(shift.ends_at);
    validate_shift_times("input", starts_at, ends_at)?;
    let mut fields = Vec::new();
    let mut am = shift.clone().into_active_model();
    let moved = starts_at != shift.starts_at || ends_at != shift.ends_at;
    if moved {
        am.starts_at = Set(starts_at);
        am.ends_at = Set(ends_at);
        am.sequence = Set(shift.sequence + 1);
        fields.extend(["starts_at", "ends_at", "sequence"]);
    }
    if let Some(capacity) = changes.capacity {
        am.capacity = Set(capacity);
        fields.push("capacity");
    }
    am.updated_at = Set(Utc::now());
    let shift = am.update(&tx).await?;
    rsvps::promote_waitlisted(&tx, scope, &shift, &event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "shift.update",
        "shift",
        Some(shift.id),
        &fields,
    )
    .await?;
    record_change(&tx, scope, &event, Some(shift.id), "shift_updated", moved).await?;
    tx.commit().await?;
    Ok(shift)
}

/// Cancels a shift; its sequence bumps so invites become cancellations. Idempotent.
pub async fn cancel_shift(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<shifts::Model> {
    let tx = db.begin_write().await?;
    let (shift, event) = shift_in_tx(&tx, scope, id).await?;
    if shift.cancelled_at.is_some() {
        return Ok(shift);
    }
    let now = Utc::now();
    let sequence = shift.sequence + 1;
    let mut am = shift.into_active_model();
    am.cancelled_at = Set(Some(now));
    am.sequence = Set(sequence);
    am.updated_at = Set(now);
    let shift = am.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "shift.cancel",
        "shift",
        Some(shift.id),
        &["cancelled_at"],
    )
    .await?;
    record_change(&tx, scope, &event, Some(shift.id), "shift_cancelled", true).await?;
    tx.commit().await?;
    Ok(shift)
}

/// Replaces a shift's host token; the old link stops working at once.
pub async fn rotate_host_token(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<ShiftWithToken> {
    let tx = db.begin_write().await?;
    let (shift, _) = shift_in_tx(&tx, scope, id).await?;
    let (host_token, hash) = new_host_token();
    let mut am = shift.into_active_model();
    am.host_token_hash = Set(hash);
    am.updated_at = Set(Utc::now());
    let shift = am.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "shift.rotate_host_token",
        "shift",
        Some(shift.id),
        &["host_token_hash"],
    )
    .await?;
    tx.commit().await?;
    Ok(ShiftWithToken { shift, host_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            validate_time_zone("tz", " America/New_York ").unwrap(),
            "America/New_York"
        );
        assert!(validate_time_zone("tz", "Mars/Olympus").is_err());
        assert!(validate_time_zone("tz", "").is_err());
    }

    #[test]
    fn reminder_offsets_are_bounded_deduplicated_and_sorted() {
        assert_eq!(
            validate_offsets("o", &[120, 1440, 120]).unwrap(),
            vec![1440, 120]
        );
        assert!(validate_offsets("o", &[0]).is_err());
        assert!(validate_offsets("o", &[50_000]).is_err());
        assert!(validate_offsets("o", &[1; 11]).is_err());
    }

    #[test]
    fn links_are_http() {
        assert!(validate_url("u", Some("https://meet.example.org/x")).is_ok());
        assert!(validate_url("u", Some("javascript:alert(1)")).is_err());
        assert_eq!(validate_url("u", Some("  ")).unwrap(), None);
    }
}
