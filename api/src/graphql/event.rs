//! Events, shifts and RSVPs as GraphQL types, and the staff's event queries and mutations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::auth::{Can, perm};
use turnout_domain::events::listing;
use turnout_domain::events::rsvps::RsvpStatus as DomainRsvpStatus;
use turnout_domain::events::{
    self, EventChanges, EventFilter, EventStatus as DomainEventStatus, NewEvent, NewShift,
    ShiftChanges, ShiftWithToken, Visibility, When,
};
use turnout_domain::people::PageRequest;
use turnout_entity::{
    events as event_row, people as person_row, rsvps as rsvp_row, shifts as shift_row,
};

use super::audit::request_context;
use super::context::{can, db, links};
use super::event_loaders::{
    EventKey, PersonKey, RsvpsOfShift, SeatsTaken, ShiftKey, ShiftsOfEvent, loader,
};
use super::person::Person;
use crate::error::{GqlResult, to_gql};
use crate::ids::{NodeType, decode_cursor, decode_id_of, encode_cursor, global_id};

/// Who may see an event.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventVisibility {
    /// Anyone may read it and RSVP to its shifts.
    Public,
    /// Staff only.
    Private,
}

impl From<EventVisibility> for Visibility {
    fn from(v: EventVisibility) -> Self {
        match v {
            EventVisibility::Public => Visibility::Public,
            EventVisibility::Private => Visibility::Private,
        }
    }
}

/// Whether an event still happens.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// It happens.
    Active,
    /// It was called off; its shifts take no RSVPs.
    Cancelled,
}

impl From<EventStatus> for DomainEventStatus {
    fn from(v: EventStatus) -> Self {
        match v {
            EventStatus::Active => DomainEventStatus::Active,
            EventStatus::Cancelled => DomainEventStatus::Cancelled,
        }
    }
}

/// Where an RSVP stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RsvpStatus {
    /// Has a seat.
    SignedUp,
    /// Has a seat and said they are still coming.
    Confirmed,
    /// The shift was full; promoted in order when a seat frees.
    Waitlisted,
    /// Called off by the person or staff.
    Cancelled,
    /// Checked in.
    Attended,
    /// Did not come.
    NoShow,
}

impl From<DomainRsvpStatus> for RsvpStatus {
    fn from(s: DomainRsvpStatus) -> Self {
        match s {
            DomainRsvpStatus::SignedUp => Self::SignedUp,
            DomainRsvpStatus::Confirmed => Self::Confirmed,
            DomainRsvpStatus::Waitlisted => Self::Waitlisted,
            DomainRsvpStatus::Cancelled => Self::Cancelled,
            DomainRsvpStatus::Attended => Self::Attended,
            DomainRsvpStatus::NoShow => Self::NoShow,
        }
    }
}

pub(crate) fn rsvp_status(raw: &str) -> async_graphql::Result<RsvpStatus> {
    DomainRsvpStatus::parse(raw)
        .map(Into::into)
        .ok_or_else(|| to_gql(DomainError::internal(format!("unknown RSVP status {raw}"))))
}

/// A campaign event: a canvass, a phone bank, a meeting. People RSVP to its shifts.
pub struct Event(pub event_row::Model);

#[Object]
impl Event {
    /// The global ID of this event.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Event, self.0.id)
    }

    /// The event's name.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What it is about; may hold line breaks.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The chapter the event belongs to (its UUID, as in `organization { chapters }`); null:
    /// the whole organization's.
    async fn chapter_id(&self) -> Option<ID> {
        self.0.chapter_id.map(|id| ID(id.to_string()))
    }

    /// The IANA time zone the event happens in (`America/New_York`).
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }

    /// Where it happens.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }

    /// The link to join online.
    async fn virtual_url(&self) -> Option<&str> {
        self.0.virtual_url.as_deref()
    }

    /// The event's own page, which Turnout serves (`<TURNOUT_PUBLIC_BASE_URL>/e/<id>`): its
    /// shifts, the seats left and an RSVP form for each. Null unless the event is public.
    async fn page_url(&self, ctx: &Context<'_>) -> Option<String> {
        (self.0.visibility == turnout_domain::events::Visibility::Public.as_str())
            .then(|| links(ctx).event(self.0.id))
    }

    /// Who may see it.
    async fn visibility(&self) -> EventVisibility {
        match Visibility::parse(&self.0.visibility) {
            Some(Visibility::Public) => EventVisibility::Public,
            _ => EventVisibility::Private,
        }
    }

    /// Whether it still happens.
    async fn status(&self) -> EventStatus {
        match DomainEventStatus::parse(&self.0.status) {
            Some(DomainEventStatus::Cancelled) => EventStatus::Cancelled,
            _ => EventStatus::Active,
        }
    }

    /// Reminders go out this many minutes before each shift starts.
    async fn reminder_offsets_minutes(&self) -> Vec<i32> {
        serde_json::from_value(self.0.reminder_offsets_minutes.clone()).unwrap_or_default()
    }

    /// The event's shifts, by start time.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn shifts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Shift>> {
        Ok(loader(ctx)?
            .load_one(ShiftsOfEvent(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Shift)
            .collect())
    }

    /// When the event was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the event last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A time slot of an event, with an optional capacity.
pub struct Shift(pub shift_row::Model);

#[Object]
impl Shift {
    /// The global ID of this shift.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Shift, self.0.id)
    }

    /// The event this shift belongs to.
    async fn event(&self, ctx: &Context<'_>) -> async_graphql::Result<Event> {
        loader(ctx)?
            .load_one(EventKey(self.0.event_id))
            .await?
            .map(Event)
            .ok_or_else(|| to_gql(DomainError::not_found("event")))
    }

    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// Most people with a seat; null is unlimited.
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }

    /// Seats taken (signed up, confirmed or attended).
    async fn seats_taken(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let n = loader(ctx)?
            .load_one(SeatsTaken(self.0.id))
            .await?
            .unwrap_or(0);
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Seats still free; null when the shift is unlimited.
    async fn seats_left(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let Some(capacity) = self.0.capacity else {
            return Ok(None);
        };
        let taken = loader(ctx)?
            .load_one(SeatsTaken(self.0.id))
            .await?
            .unwrap_or(0);
        let taken = i32::try_from(taken).unwrap_or(i32::MAX);
        Ok(Some((capacity - taken).max(0)))
    }

    /// The calendar revision: bumped when the times (or the event's details) change.
    async fn sequence(&self) -> i32 {
        self.0.sequence
    }

    /// When the shift was cancelled.
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }

    /// Everyone who RSVPed, oldest first, cancelled included. Needs `events:read`.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn rsvps(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Rsvp>> {
        let loader = loader(ctx)?;
        let rows = loader
            .load_one(RsvpsOfShift(self.0.id))
            .await?
            .unwrap_or_default();
        // A roster that shows people asks for them here, once per shift, instead of once per
        // RSVP: the shifts of one event ask together, so their people load in one batch. A
        // caller who may not read people gets the error from each `person` field, as before.
        let people = if ctx.look_ahead().field("person").exists() {
            loader
                .load_many(rows.iter().map(|r| PersonKey(r.person_id)))
                .await
                .unwrap_or_default()
        } else {
            HashMap::new()
        };
        Ok(rows
            .into_iter()
            .map(|row| Rsvp {
                person: people.get(&PersonKey(row.person_id)).cloned(),
                row,
            })
            .collect())
    }

    /// When the shift was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person's place on a shift.
pub struct Rsvp {
    row: Arc<rsvp_row::Model>,
    /// The person, when the roster that listed this RSVP loaded its people ahead.
    person: Option<Arc<person_row::Model>>,
}

impl Rsvp {
    /// An RSVP whose person is loaded when asked for.
    pub(crate) fn new(row: Arc<rsvp_row::Model>) -> Self {
        Self { row, person: None }
    }
}

impl From<rsvp_row::Model> for Rsvp {
    fn from(row: rsvp_row::Model) -> Self {
        Self::new(Arc::new(row))
    }
}

#[Object]
impl Rsvp {
    /// The global ID of this RSVP.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Rsvp, self.row.id)
    }

    /// Where it stands.
    async fn status(&self) -> async_graphql::Result<RsvpStatus> {
        rsvp_status(&self.row.status)
    }

    /// When the person was checked in.
    async fn checked_in_at(&self) -> Option<DateTime<Utc>> {
        self.row.checked_in_at
    }

    /// The person. Needs `people:read`.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        if let Some(person) = &self.person {
            return Ok(Person(person.clone()));
        }
        loader(ctx)?
            .load_one(PersonKey(self.row.person_id))
            .await?
            .map(Person)
            .ok_or_else(|| to_gql(DomainError::not_found("person")))
    }

    /// The shift.
    async fn shift(&self, ctx: &Context<'_>) -> async_graphql::Result<Shift> {
        loader(ctx)?
            .load_one(ShiftKey(self.row.shift_id))
            .await?
            .map(Shift)
            .ok_or_else(|| to_gql(DomainError::not_found("shift")))
    }

    /// True for someone the host added at the door (a walk-in), not an RSVP made ahead.
    async fn walk_in(&self) -> bool {
        self.row.walk_in
    }

    /// The global ID of the person whose referral link brought this RSVP.
    async fn referrer_id(&self) -> Option<ID> {
        self.row
            .referrer_person_id
            .map(|id| global_id(NodeType::Person, id))
    }

    /// The RSVP's calendar invite (`<TURNOUT_PUBLIC_BASE_URL>/ics/<token>.ics`, RFC 5545).
    /// The token in it also lets the person cancel (`cancelRsvpByToken`).
    async fn ics_url(&self, ctx: &Context<'_>) -> String {
        links(ctx).ics(&self.row.public_token)
    }

    /// The RSVP's own page (`<TURNOUT_PUBLIC_BASE_URL>/r/<token>`), where the person confirms,
    /// cancels or changes shift: the link confirmations and reminders carry.
    async fn page_url(&self, ctx: &Context<'_>) -> String {
        links(ctx).rsvp(&self.row.public_token)
    }

    /// When the RSVP was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// A shift with its host link, shown once: only the token's hash is kept.
#[derive(SimpleObject)]
pub struct ShiftHostLink {
    /// The shift.
    pub shift: Shift,
    /// The host token: whoever holds it may see the roster and check people in.
    pub host_token: String,
    /// The host check-in page Turnout serves (`<TURNOUT_PUBLIC_BASE_URL>/host/<token>`).
    pub host_url: String,
}

impl ShiftHostLink {
    fn new(s: ShiftWithToken, links: &turnout_domain::links::PublicLinks) -> Self {
        Self {
            host_url: links.host(&s.host_token),
            host_token: s.host_token,
            shift: Shift(s.shift),
        }
    }
}

/// A new event and its shifts' host links.
#[derive(SimpleObject)]
pub struct CreateEventPayload {
    /// The event.
    pub event: Event,
    /// One per shift, in the order given; the host tokens are not shown again.
    pub host_links: Vec<ShiftHostLink>,
}

/// A time slot.
#[derive(InputObject)]
pub struct ShiftInput {
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends; after `startsAt`.
    pub ends_at: DateTime<Utc>,
    /// Most people with a seat (at least 1); null or absent is unlimited.
    pub capacity: Option<i32>,
}

impl From<ShiftInput> for NewShift {
    fn from(s: ShiftInput) -> Self {
        NewShift {
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            capacity: s.capacity,
        }
    }
}

/// A new event.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// The event's name (1–200 characters).
    pub title: String,
    /// What it is about.
    pub description: Option<String>,
    /// An IANA time zone name (`America/New_York`); left out, the organization's time zone
    /// (`organization { settings { timeZone } }`).
    pub time_zone: Option<String>,
    /// Where it happens.
    pub location: Option<String>,
    /// An http(s) link to join online.
    pub virtual_url: Option<String>,
    /// Who may see it; default private.
    #[graphql(default_with = "EventVisibility::Private")]
    pub visibility: EventVisibility,
    /// Minutes before each shift to send reminders; default `[1440, 120]`.
    pub reminder_offsets_minutes: Option<Vec<i32>>,
    /// The first shifts (more with `addShift`).
    #[graphql(default)]
    pub shifts: Vec<ShiftInput>,
    /// The chapter it belongs to (a UUID; people who RSVP without a chapter join it). Left
    /// out: the whole organization's, or for a caller limited to chapters, its first.
    pub chapter_id: Option<ID>,
}

/// Changes to an event: absent fields stay; null clears an optional one.
#[derive(InputObject, Default)]
pub struct UpdateEventInput {
    /// The event's name.
    pub title: Option<String>,
    /// What it is about.
    pub description: MaybeUndefined<String>,
    /// An IANA time zone name.
    pub time_zone: Option<String>,
    /// Where it happens.
    pub location: MaybeUndefined<String>,
    /// An http(s) link to join online.
    pub virtual_url: MaybeUndefined<String>,
    /// Who may see it.
    pub visibility: Option<EventVisibility>,
    /// Minutes before each shift to send reminders.
    pub reminder_offsets_minutes: Option<Vec<i32>>,
}

/// Changes to a shift: absent fields stay; `capacity: null` makes it unlimited.
#[derive(InputObject, Default)]
pub struct UpdateShiftInput {
    /// When it starts.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// Most people with a seat; null is unlimited.
    pub capacity: MaybeUndefined<i32>,
}

/// Upcoming or past, by the event's shifts.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum EventTiming {
    /// Some shift has not ended yet.
    Upcoming,
    /// Every shift has ended, or there are none.
    Past,
}

/// Filters on events; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct EventsFilter {
    /// Upcoming or past.
    pub timing: Option<EventTiming>,
    /// Active or cancelled.
    pub status: Option<EventStatus>,
}

/// Filters on the public listing; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct PublicEventsFilter {
    /// Events of this chapter (its UUID).
    pub chapter_id: Option<ID>,
    /// Events with a shift ending at or after this (default and earliest: now).
    pub from: Option<DateTime<Utc>>,
    /// Events with a shift starting at or before this.
    pub to: Option<DateTime<Utc>>,
}

fn maybe<T>(v: MaybeUndefined<T>) -> Option<Option<T>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// The scope for reading events: `None` for an anonymous caller (public events only).
fn reader(ctx: &Context<'_>) -> async_graphql::Result<Option<Can<perm::EventsRead>>> {
    match ctx
        .data_opt::<super::RequestAuth>()
        .and_then(|a| a.0.as_ref())
    {
        None => Ok(None),
        Some(p) => p.can().map(Some).map_err(to_gql),
    }
}

/// Totals of an events connection: staff's (counted when asked) or the public listing's
/// (known from the page's own read).
pub enum EventTotals {
    Staff {
        scope: Can<perm::EventsRead>,
        filter: EventFilter,
    },
    Public(u64),
}

#[Object]
impl EventTotals {
    /// How many events match the filter (all pages). For staff one `COUNT` query, run only
    /// when asked.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        match self {
            EventTotals::Staff { scope, filter } => {
                events::count_events(db(ctx), scope, filter).await.gql()
            }
            EventTotals::Public(total) => Ok(*total),
        }
    }
}

/// Reading events.
#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// The organization's events, newest first, as a Relay connection. Needs `events:read`.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many events to return (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return events after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
        filter: Option<EventsFilter>,
    ) -> async_graphql::Result<Connection<String, Event, EventTotals>> {
        let scope = can::<perm::EventsRead>(ctx)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let filter = filter.unwrap_or_default();
        let filter = EventFilter {
            when: filter.timing.map(|t| match t {
                EventTiming::Upcoming => When::Upcoming,
                EventTiming::Past => When::Past,
            }),
            status: filter.status.map(Into::into),
        };
        let result = events::list_events(db(ctx), &scope, &filter, page)
            .await
            .gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            EventTotals::Staff { scope, filter },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|e| Edge::new(encode_cursor(e.id), Event(e))),
        );
        Ok(connection)
    }

    /// Public: the upcoming public events of an organization (by its slug, as `organization
    /// { slug }` and `turnout org create` show it), soonest first by their next shift, with
    /// no credential. Cancelled events and shifts, and events whose shifts are over, are left
    /// out.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn public_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's slug.")] organization: String,
        #[graphql(desc = "How many events to return (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return events after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
        filter: Option<PublicEventsFilter>,
    ) -> async_graphql::Result<Connection<String, Event, EventTotals>> {
        let after = after
            .as_deref()
            .map(|c| crate::ids::decode_public_event_cursor("after", c))
            .transpose()?;
        let filter = filter.unwrap_or_default();
        let filter = listing::PublicEventFilter {
            chapter_id: filter
                .chapter_id
                .as_ref()
                .map(|id| crate::ids::parse_uuid("filter.chapterId", id))
                .transpose()?,
            from: filter.from,
            to: filter.to,
        };
        let result = listing::list_public(db(ctx), &organization, &filter, first, after)
            .await
            .gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            EventTotals::Public(result.total),
        );
        connection.edges.extend(result.items.into_iter().map(|e| {
            Edge::new(
                crate::ids::encode_public_event_cursor(&e.cursor()),
                Event(e.event),
            )
        }));
        Ok(connection)
    }

    /// One event by global ID. Public for public events; staff with `events:read` see their
    /// organization's.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Event> {
        let scope = reader(ctx)?;
        let uuid = decode_id_of("id", NodeType::Event, &id)?;
        Ok(Event(
            events::get_event(db(ctx), scope.as_ref(), uuid)
                .await
                .gql()?,
        ))
    }

    /// One shift by global ID. Public for shifts of public events.
    async fn shift(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Shift> {
        let scope = reader(ctx)?;
        let uuid = decode_id_of("id", NodeType::Shift, &id)?;
        Ok(Shift(
            events::get_shift(db(ctx), scope.as_ref(), uuid)
                .await
                .gql()?,
        ))
    }
}

/// Managing events and shifts. Every mutation needs `events:write`.
#[derive(Default)]
pub struct EventsMutation;

#[Object]
impl EventsMutation {
    /// Create an event with its first shifts. The answer holds each shift's host link, shown
    /// only this once.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: CreateEventInput,
    ) -> async_graphql::Result<CreateEventPayload> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let chapter_id = input
            .chapter_id
            .as_ref()
            .map(|id| crate::ids::parse_uuid("input.chapterId", id))
            .transpose()?;
        let new = NewEvent {
            chapter_id,
            title: input.title,
            description: input.description,
            time_zone: input.time_zone,
            location: input.location,
            virtual_url: input.virtual_url,
            visibility: input.visibility.into(),
            reminder_offsets_minutes: input.reminder_offsets_minutes,
            shifts: input.shifts.into_iter().map(Into::into).collect(),
        };
        let created = events::create_event(db(ctx), &scope, &request_context(ctx), new)
            .await
            .gql()?;
        Ok(CreateEventPayload {
            event: Event(created.event),
            host_links: created
                .shifts
                .into_iter()
                .map(|s| ShiftHostLink::new(s, links(ctx)))
                .collect(),
        })
    }

    /// Change an event. Changing what a calendar shows bumps every shift's `sequence`.
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateEventInput,
    ) -> async_graphql::Result<Event> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Event, &id)?;
        let changes = EventChanges {
            title: input.title,
            description: maybe(input.description),
            time_zone: input.time_zone,
            location: maybe(input.location),
            virtual_url: maybe(input.virtual_url),
            visibility: input.visibility.map(Into::into),
            reminder_offsets_minutes: input.reminder_offsets_minutes,
        };
        Ok(Event(
            events::update_event(db(ctx), &scope, &request_context(ctx), uuid, changes)
                .await
                .gql()?,
        ))
    }

    /// Cancel an event and all its shifts; their invites become cancellations.
    async fn cancel_event(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Event> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Event, &id)?;
        Ok(Event(
            events::cancel_event(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Add a shift to an event. The answer holds its host link, shown only this once.
    async fn add_shift(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        input: ShiftInput,
    ) -> async_graphql::Result<ShiftHostLink> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("eventId", NodeType::Event, &event_id)?;
        let created = events::add_shift(db(ctx), &scope, &request_context(ctx), uuid, input.into())
            .await
            .gql()?;
        Ok(ShiftHostLink::new(created, links(ctx)))
    }

    /// Change a shift's times (bumps its `sequence`) or capacity (more seats promote people
    /// from the waitlist).
    async fn update_shift(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateShiftInput,
    ) -> async_graphql::Result<Shift> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Shift, &id)?;
        let changes = ShiftChanges {
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            capacity: maybe(input.capacity),
        };
        Ok(Shift(
            events::update_shift(db(ctx), &scope, &request_context(ctx), uuid, changes)
                .await
                .gql()?,
        ))
    }

    /// Cancel a shift; it takes no more RSVPs and its invites become cancellations.
    async fn cancel_shift(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Shift> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Shift, &id)?;
        Ok(Shift(
            events::cancel_shift(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Replace a shift's host link; the old one stops working.
    async fn rotate_shift_host_token(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ShiftHostLink> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Shift, &id)?;
        let rotated = events::rotate_host_token(db(ctx), &scope, &request_context(ctx), uuid)
            .await
            .gql()?;
        Ok(ShiftHostLink::new(rotated, links(ctx)))
    }
}

/// `node(id:)` for events, shifts and RSVPs (`events:read`); `None` for other types.
pub(crate) async fn fetch_node(
    ctx: &Context<'_>,
    ty: NodeType,
    id: uuid::Uuid,
) -> async_graphql::Result<Option<super::node::Node>> {
    use super::node::Node;
    // Events and shifts as `event` and `shift` read them: an anonymous caller sees public
    // ones (for a page to refetch by id); RSVPs are staff only.
    let node = match ty {
        NodeType::Event => Node::Event(Box::new(Event(
            events::get_event(db(ctx), reader(ctx)?.as_ref(), id)
                .await
                .gql()?,
        ))),
        NodeType::Shift => Node::Shift(Box::new(Shift(
            events::get_shift(db(ctx), reader(ctx)?.as_ref(), id)
                .await
                .gql()?,
        ))),
        NodeType::Rsvp => {
            let scope = can::<perm::EventsRead>(ctx)?;
            Node::Rsvp(Box::new(Rsvp::from(
                events::rsvps::get(db(ctx), &scope, id).await.gql()?,
            )))
        }
        _ => return Ok(None),
    };
    Ok(Some(node))
}
