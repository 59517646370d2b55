//! The DataLoader of events, shifts, RSVPs and the people on them, made per request so its
//! cache never crosses callers. One loader, one key type per relation; each batch is one query.
//!
//! An anonymous request gets one too: without a scope it sees public events and their shifts
//! only, and refuses rosters and people.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use turnout_domain::DomainError;
use turnout_domain::auth::{Can, Principal, perm};
use turnout_domain::db::Db;
use turnout_domain::events::{self, rsvps};
use turnout_domain::referrals;
use turnout_entity::{events as event_row, people as person_row, rsvps as rsvp_row, shifts};
use uuid::Uuid;

use crate::error::to_gql;

/// The loader behind every event relation.
pub struct EventLoader {
    db: Db,
    /// `events:read`, if the caller has it; `None` reads public events only.
    events: Option<Can<perm::EventsRead>>,
    /// `people:read`, if the caller has it.
    people: Option<Can<perm::PeopleRead>>,
}

pub type EventDataLoader = DataLoader<EventLoader, HashMapCache>;

/// An event by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKey(pub Uuid);
/// A shift by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShiftKey(pub Uuid);
/// The shifts of an event.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShiftsOfEvent(pub Uuid);
/// The RSVPs of a shift (staff).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RsvpsOfShift(pub Uuid);
/// The RSVPs of a person (staff).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RsvpsOfPerson(pub Uuid);
/// A person by id (needs `people:read`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonKey(pub Uuid);
/// Seats taken on a shift.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeatsTaken(pub Uuid);
/// How many people a person referred (needs `people:read`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReferralCount(pub Uuid);

fn forbidden(what: &str) -> async_graphql::Error {
    to_gql(DomainError::Forbidden(format!("reading {what}")))
}

impl EventLoader {
    fn staff(&self) -> async_graphql::Result<&Can<perm::EventsRead>> {
        self.events
            .as_ref()
            .ok_or_else(|| forbidden("RSVPs needs `events:read`"))
    }

    fn people_scope(&self) -> async_graphql::Result<&Can<perm::PeopleRead>> {
        self.people
            .as_ref()
            .ok_or_else(|| forbidden("people needs `people:read`"))
    }
}

fn rekey<K: Copy + Eq + std::hash::Hash, V>(
    map: HashMap<Uuid, V>,
    key: impl Fn(Uuid) -> K,
) -> HashMap<K, V> {
    map.into_iter().map(|(id, v)| (key(id), v)).collect()
}

/// Rows the cache hands out many times (once per parent asking), shared instead of cloned.
fn shared<T>(rows: Vec<T>) -> Vec<Arc<T>> {
    rows.into_iter().map(Arc::new).collect()
}

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> Uuid) -> Vec<Uuid> {
    keys.iter().map(|k| id(*k)).collect()
}

impl Loader<EventKey> for EventLoader {
    type Value = event_row::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[EventKey]) -> Result<HashMap<EventKey, Self::Value>, Self::Error> {
        let rows = events::events_by_ids(&self.db, self.events.as_ref(), &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rekey(rows, EventKey))
    }
}

impl Loader<ShiftKey> for EventLoader {
    type Value = shifts::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[ShiftKey]) -> Result<HashMap<ShiftKey, Self::Value>, Self::Error> {
        let rows = events::shifts_by_ids(&self.db, self.events.as_ref(), &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rekey(rows, ShiftKey))
    }
}

impl Loader<ShiftsOfEvent> for EventLoader {
    type Value = Vec<shifts::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ShiftsOfEvent],
    ) -> Result<HashMap<ShiftsOfEvent, Self::Value>, Self::Error> {
        let rows = events::shifts_of_events(&self.db, self.events.as_ref(), &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rekey(rows, ShiftsOfEvent))
    }
}

impl Loader<RsvpsOfShift> for EventLoader {
    type Value = Vec<Arc<rsvp_row::Model>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[RsvpsOfShift],
    ) -> Result<HashMap<RsvpsOfShift, Self::Value>, Self::Error> {
        let rows = rsvps::of_shifts(&self.db, self.staff()?, &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rows
            .into_iter()
            .map(|(id, rows)| (RsvpsOfShift(id), shared(rows)))
            .collect())
    }
}

impl Loader<RsvpsOfPerson> for EventLoader {
    type Value = Vec<Arc<rsvp_row::Model>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[RsvpsOfPerson],
    ) -> Result<HashMap<RsvpsOfPerson, Self::Value>, Self::Error> {
        let rows = rsvps::of_people(&self.db, self.staff()?, &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rows
            .into_iter()
            .map(|(id, rows)| (RsvpsOfPerson(id), shared(rows)))
            .collect())
    }
}

impl Loader<PersonKey> for EventLoader {
    /// Shared: the cache hands it out once per RSVP, and a person row is wide.
    type Value = Arc<person_row::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[PersonKey],
    ) -> Result<HashMap<PersonKey, Self::Value>, Self::Error> {
        let rows = rsvps::people_by_ids(&self.db, self.people_scope()?, &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rows
            .into_iter()
            .map(|(id, row)| (PersonKey(id), Arc::new(row)))
            .collect())
    }
}

impl Loader<SeatsTaken> for EventLoader {
    type Value = u64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[SeatsTaken],
    ) -> Result<HashMap<SeatsTaken, Self::Value>, Self::Error> {
        // Only shifts the caller already read reach here; counts reveal no one.
        let rows = rsvps::seats_taken(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rekey(rows, SeatsTaken))
    }
}

impl Loader<ReferralCount> for EventLoader {
    type Value = u64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[ReferralCount],
    ) -> Result<HashMap<ReferralCount, Self::Value>, Self::Error> {
        let rows = referrals::counts(&self.db, self.people_scope()?, &ids(keys, |k| k.0))
            .await
            .map_err(to_gql)?;
        Ok(rekey(rows, ReferralCount))
    }
}

/// The event loader for a request by `principal` (or an anonymous one), as request data.
pub fn event_loader(db: &Db, principal: Option<&Principal>) -> EventDataLoader {
    DataLoader::with_cache(
        EventLoader {
            db: db.clone(),
            events: principal.and_then(|p| p.can().ok()),
            people: principal.and_then(|p| p.can().ok()),
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// The request's event loader.
pub(crate) fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a EventDataLoader> {
    ctx.data_opt::<EventDataLoader>()
        .ok_or_else(|| to_gql(DomainError::internal("no event loader in the request")))
}
