//! The public listing of an organization's upcoming events, soonest first, for sign-up pages
//! and embeds: no credential, public and active events with a shift still to come.
//!
//! Two statements whatever the page: the next shift start of every matching event (one
//! grouped query), then the page's events. The sort and the keyset cursor (next start, id) are
//! applied in between, so the order is stable while shifts are added.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use turnout_entity::{events, organizations, shifts};
use uuid::Uuid;

use super::{EventStatus, Visibility};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::people::PageRequest;

/// Which public events to list.
#[derive(Clone, Debug, Default)]
pub struct PublicEventFilter {
    pub chapter_id: Option<Uuid>,
    /// Events with a shift ending at or after this (default: now; never earlier than now).
    pub from: Option<DateTime<Utc>>,
    /// Events with a shift starting at or before this.
    pub to: Option<DateTime<Utc>>,
}

/// A place in the listing: an event's next shift start, then its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PublicEventCursor {
    pub next_starts_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A listed event, with the start of its next shift in the filter's window.
#[derive(Clone, Debug)]
pub struct PublicEvent {
    pub event: events::Model,
    pub next_starts_at: DateTime<Utc>,
}

impl PublicEvent {
    pub fn cursor(&self) -> PublicEventCursor {
        PublicEventCursor {
            next_starts_at: self.next_starts_at,
            id: self.event.id,
        }
    }
}

/// The upcoming public events of the organization with slug `organization`, soonest first.
pub async fn list_public(
    db: &Db,
    organization: &str,
    filter: &PublicEventFilter,
    first: Option<i32>,
    after: Option<PublicEventCursor>,
) -> DomainResult<PublicPage> {
    let org = organizations::Entity::find()
        .filter(organizations::Column::Slug.eq(organization.trim()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    crate::organization::refuse_suspended(Some(&org))?;
    list_public_of(db, org.id, filter, first, after).await
}

/// The same listing for an organization the caller already holds (a page that showed it).
pub async fn list_public_of(
    db: &Db,
    org_id: Uuid,
    filter: &PublicEventFilter,
    first: Option<i32>,
    after: Option<PublicEventCursor>,
) -> DomainResult<PublicPage> {
    let page = PageRequest::new(first, None)?;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(DomainError::validation(
            "filter.to",
            "must not be before filter.from",
        ));
    }
    let now = Utc::now();
    let from = filter.from.map_or(now, |f| std::cmp::max(f, now));
    let mut listed = Query::select()
        .column(events::Column::Id)
        .from(events::Entity)
        .and_where(Expr::col(events::Column::OrganizationId).eq(org_id))
        .and_where(Expr::col(events::Column::Visibility).eq(Visibility::Public.as_str()))
        .and_where(Expr::col(events::Column::Status).eq(EventStatus::Active.as_str()))
        .to_owned();
    if let Some(chapter) = filter.chapter_id {
        listed.and_where(Expr::col(events::Column::ChapterId).eq(chapter));
    }
    let mut shifts_q = shifts::Entity::find()
        .select_only()
        .column(shifts::Column::EventId)
        .column_as(shifts::Column::StartsAt.min(), "next_starts_at")
        .filter(shifts::Column::OrganizationId.eq(org_id))
        .filter(shifts::Column::CancelledAt.is_null())
        .filter(shifts::Column::EndsAt.gte(from))
        .filter(shifts::Column::EventId.in_subquery(listed));
    if let Some(to) = filter.to {
        shifts_q = shifts_q.filter(shifts::Column::StartsAt.lte(to));
    }
    let listed: Vec<(Uuid, DateTime<Utc>)> = shifts_q
        .group_by(shifts::Column::EventId)
        .into_tuple()
        .all(db.conn())
        .await?;
    let total = listed.len() as u64;
    let mut next: Vec<PublicEventCursor> = listed
        .into_iter()
        .map(|(id, next_starts_at)| PublicEventCursor { next_starts_at, id })
        .filter(|c| after.is_none_or(|a| *c > a))
        .collect();
    next.sort_unstable();
    let has_next_page = next.len() as u64 > page.first;
    next.truncate(page.first as usize);
    let mut rows = events::Entity::find()
        .filter(events::Column::Id.is_in(next.iter().map(|c| c.id)))
        .all(db.conn())
        .await?;
    let mut items = Vec::with_capacity(next.len());
    for c in next {
        if let Some(i) = rows.iter().position(|e| e.id == c.id) {
            items.push(PublicEvent {
                event: rows.swap_remove(i),
                next_starts_at: c.next_starts_at,
            });
        }
    }
    Ok(PublicPage {
        items,
        has_next_page,
        total,
    })
}

/// A page of the public listing, and how many events the whole listing holds.
#[derive(Clone, Debug)]
pub struct PublicPage {
    pub items: Vec<PublicEvent>,
    pub has_next_page: bool,
    /// Every page's events in all (the listing reads them all to order them).
    pub total: u64,
}
