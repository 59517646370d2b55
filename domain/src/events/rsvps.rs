//! RSVPs: a person's place on a shift, from sign-up to attendance.
//!
//! Capacity is enforced under the shift's lock: every change that takes or frees a seat runs in
//! a write transaction that first locks the shift row (`BEGIN IMMEDIATE` on SQLite, `SELECT …
//! FOR UPDATE` on PostgreSQL), then counts the seats taken. A full shift puts new RSVPs on the
//! waitlist; a freed seat promotes the oldest waitlisted RSVP in the same transaction.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use turnout_entity::{events, organizations, people, rsvps, shifts};
use uuid::Uuid;

use super::{EventStatus, get_shift, ics, lock_shift, visible_shifts};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::auth::{OrgScope, hash_secret, random_token};
use crate::db::{Db, is_unique_violation};
use crate::error::{DomainError, DomainResult};
use crate::outbox;
use crate::signup::{ContactInput, ValidContact, WriteError, upsert_person, validate_contact};

/// How many times a public RSVP that lost an insert race is retried.
const MAX_ATTEMPTS: usize = 5;

/// Where an RSVP stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsvpStatus {
    SignedUp,
    Confirmed,
    Waitlisted,
    Cancelled,
    Attended,
    NoShow,
}

impl RsvpStatus {
    pub const ALL: [RsvpStatus; 6] = [
        Self::SignedUp,
        Self::Confirmed,
        Self::Waitlisted,
        Self::Cancelled,
        Self::Attended,
        Self::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedUp => "signed_up",
            Self::Confirmed => "confirmed",
            Self::Waitlisted => "waitlisted",
            Self::Cancelled => "cancelled",
            Self::Attended => "attended",
            Self::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The statuses that hold a seat.
    const SEATED: [RsvpStatus; 3] = [Self::SignedUp, Self::Confirmed, Self::Attended];
}

fn status_of(rsvp: &rsvps::Model) -> DomainResult<RsvpStatus> {
    RsvpStatus::parse(&rsvp.status).ok_or_else(|| {
        DomainError::internal(format!("rsvp {} has status {}", rsvp.id, rsvp.status))
    })
}

/// The RSVPs a scope may see: its organization's, on shifts it may see.
fn visible_rsvps(scope: &OrgScope) -> Condition {
    let cond = Condition::all().add(rsvps::Column::OrganizationId.eq(scope.org_id()));
    match scope.chapters() {
        None => cond,
        Some(_) => {
            let shifts = sea_orm::sea_query::Query::select()
                .column(shifts::Column::Id)
                .from(shifts::Entity)
                .cond_where(visible_shifts(Some(scope)))
                .to_owned();
            cond.add(rsvps::Column::ShiftId.in_subquery(shifts))
        }
    }
}

// --- reads ------------------------------------------------------------------------------------

pub async fn get(db: &Db, scope: &Can<perm::EventsRead>, id: Uuid) -> DomainResult<rsvps::Model> {
    rsvps::Entity::find_by_id(id)
        .filter(visible_rsvps(scope))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("RSVP"))
}

/// The RSVPs of each shift, oldest first, in one query.
pub async fn of_shifts(
    db: &Db,
    scope: &Can<perm::EventsRead>,
    shift_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<rsvps::Model>>> {
    grouped(db, scope, rsvps::Column::ShiftId, shift_ids, |r| r.shift_id).await
}

/// The RSVPs of each person, oldest first, in one query.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::EventsRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<rsvps::Model>>> {
    grouped(db, scope, rsvps::Column::PersonId, person_ids, |r| {
        r.person_id
    })
    .await
}

/// The visible RSVPs whose `column` is one of `ids`, oldest first, grouped by `key`.
async fn grouped(
    db: &Db,
    scope: &OrgScope,
    column: rsvps::Column,
    ids: &[Uuid],
    key: fn(&rsvps::Model) -> Uuid,
) -> DomainResult<HashMap<Uuid, Vec<rsvps::Model>>> {
    let rows = rsvps::Entity::find()
        .filter(visible_rsvps(scope))
        .filter(column.is_in(ids.iter().copied()))
        .order_by_asc(rsvps::Column::Id)
        .all(db.conn())
        .await?;
    let mut out: HashMap<Uuid, Vec<rsvps::Model>> = HashMap::new();
    for r in rows {
        out.entry(key(&r)).or_default().push(r);
    }
    Ok(out)
}

/// People by id, in one query, as the scope may see them (organization and chapters).
pub async fn people_by_ids(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, people::Model>> {
    let mut cond = Condition::all()
        .add(people::Column::OrganizationId.eq(scope.org_id()))
        .add(people::Column::Id.is_in(ids.iter().copied()));
    if let Some(chapters) = scope.chapters() {
        cond = cond.add(people::Column::ChapterId.is_in(chapters.iter().copied()));
    }
    Ok(people::Entity::find()
        .filter(cond)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Seats taken on each shift, in one query. The caller has already read the shifts.
pub async fn seats_taken(db: &Db, shift_ids: &[Uuid]) -> DomainResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Uuid, i64)> = rsvps::Entity::find()
        .select_only()
        .column(rsvps::Column::ShiftId)
        .column_as(Expr::col(rsvps::Column::Id).count(), "n")
        .filter(rsvps::Column::ShiftId.is_in(shift_ids.iter().copied()))
        .filter(rsvps::Column::Status.is_in(RsvpStatus::SEATED.map(RsvpStatus::as_str)))
        .group_by(rsvps::Column::ShiftId)
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

// --- the seat logic ---------------------------------------------------------------------------

async fn seated_count(tx: &DatabaseTransaction, shift_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.eq(shift_id))
        .filter(rsvps::Column::Status.is_in(RsvpStatus::SEATED.map(RsvpStatus::as_str)))
        .count(tx)
        .await
}

fn bookable(shift: &shifts::Model, event: &events::Model) -> DomainResult<()> {
    if event.status == EventStatus::Cancelled.as_str() {
        return Err(DomainError::Conflict(
            "the event is cancelled; it takes no RSVPs".into(),
        ));
    }
    if shift.cancelled_at.is_some() {
        return Err(DomainError::Conflict(
            "the shift is cancelled; it takes no RSVPs".into(),
        ));
    }
    Ok(())
}

fn payload(rsvp: &rsvps::Model, shift: &shifts::Model) -> outbox::RsvpRef {
    outbox::RsvpRef {
        rsvp_id: rsvp.id,
        person_id: rsvp.person_id,
        shift_id: shift.id,
        event_id: shift.event_id,
        status: rsvp.status.clone(),
    }
}

/// Who made an RSVP and how; the rest is the same for staff and the public.
struct Booking<'a> {
    person_id: Uuid,
    referrer: Option<Uuid>,
    scope: &'a OrgScope,
    ctx: &'a RequestContext,
}

/// RSVPs `booking.person_id` to the locked `shift`: signed up if a seat is free, else
/// waitlisted. An active RSVP is returned as it is; a cancelled one is reactivated.
async fn book(
    tx: &DatabaseTransaction,
    shift: &shifts::Model,
    event: &events::Model,
    booking: Booking<'_>,
) -> Result<rsvps::Model, WriteError> {
    bookable(shift, event)?;
    let existing = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.eq(shift.id))
        .filter(rsvps::Column::PersonId.eq(booking.person_id))
        .one(tx)
        .await?;
    if let Some(rsvp) = &existing
        && rsvp.status != RsvpStatus::Cancelled.as_str()
    {
        return Ok(rsvp.clone());
    }
    let seat_free = match shift.capacity {
        None => true,
        Some(cap) => seated_count(tx, shift.id).await? < u64::try_from(cap).unwrap_or(0),
    };
    let status = if seat_free {
        RsvpStatus::SignedUp
    } else {
        RsvpStatus::Waitlisted
    };
    let now = Utc::now();
    let reactivated = existing.is_some();
    let rsvp = match existing {
        Some(rsvp) => {
            let mut am = rsvp.into_active_model();
            am.status = Set(status.as_str().to_owned());
            am.checked_in_at = Set(None);
            am.updated_at = Set(now);
            am.update(tx).await?
        }
        None => {
            rsvps::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(shift.organization_id),
                shift_id: Set(shift.id),
                person_id: Set(booking.person_id),
                status: Set(status.as_str().to_owned()),
                checked_in_at: Set(None),
                referrer_person_id: Set(booking.referrer),
                utm_source: Set(None),
                utm_medium: Set(None),
                utm_campaign: Set(None),
                public_token: Set(random_token(24)),
                created_at: Set(now),
                updated_at: Set(now),
                missed_at: Set(None),
                attended_recorded_at: Set(None),
                walk_in: Set(false),
            }
            .insert(tx)
            .await?
        }
    };
    let action = if reactivated {
        "rsvp.reactivate"
    } else {
        "rsvp.create"
    };
    audit::record(
        tx,
        booking.scope,
        booking.ctx,
        action,
        "rsvp",
        Some(rsvp.id),
        &["shift_id", "person_id", "status"],
    )
    .await?;
    outbox::record(
        tx,
        booking.scope,
        outbox::DomainEvent::RsvpCreated {
            rsvp: payload(&rsvp, shift),
            reactivated,
            referrer_person_id: rsvp.referrer_person_id,
            walk_in: false,
        },
    )
    .await?;
    Ok(rsvp)
}

/// Fills free seats of `shift` from its waitlist, oldest first (by when they were waitlisted).
pub(crate) async fn promote_waitlisted(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    shift: &shifts::Model,
    event: &events::Model,
) -> DomainResult<Vec<rsvps::Model>> {
    if bookable(shift, event).is_err() {
        return Ok(Vec::new());
    }
    let free = match shift.capacity {
        None => u64::MAX,
        Some(cap) => u64::try_from(cap)
            .unwrap_or(0)
            .saturating_sub(seated_count(tx, shift.id).await?),
    };
    if free == 0 {
        return Ok(Vec::new());
    }
    let waiting = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.eq(shift.id))
        .filter(rsvps::Column::Status.eq(RsvpStatus::Waitlisted.as_str()))
        .order_by_asc(rsvps::Column::UpdatedAt)
        .order_by_asc(rsvps::Column::Id)
        .limit(Ord::min(free, 10_000))
        .all(tx)
        .await?;
    let mut promoted = Vec::with_capacity(waiting.len());
    for rsvp in waiting {
        let mut am = rsvp.into_active_model();
        am.status = Set(RsvpStatus::SignedUp.as_str().to_owned());
        am.updated_at = Set(Utc::now());
        let rsvp = am.update(tx).await?;
        outbox::record(
            tx,
            scope,
            outbox::DomainEvent::RsvpPromoted(payload(&rsvp, shift)),
        )
        .await?;
        promoted.push(rsvp);
    }
    Ok(promoted)
}

async fn shift_and_event(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    shift_id: Uuid,
) -> DomainResult<(shifts::Model, events::Model)> {
    let shift = lock_shift(tx, org_id, shift_id).await?;
    let event = events::Entity::find_by_id(shift.event_id)
        .filter(events::Column::OrganizationId.eq(org_id))
        .one(tx)
        .await?
        .ok_or(DomainError::not_found("event"))?;
    Ok((shift, event))
}

// --- staff ------------------------------------------------------------------------------------

/// Staff RSVP a person of the organization to a shift.
pub async fn create(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    shift_id: Uuid,
    person_id: Uuid,
) -> DomainResult<rsvps::Model> {
    let shift = get_shift(db, Some(&Can::vouched(scope)), shift_id).await?;
    let person = people_by_ids(db, &Can::vouched(scope), &[person_id])
        .await?
        .remove(&person_id)
        .ok_or(DomainError::not_found("person"))?;
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), shift.id).await?;
    let booking = Booking {
        person_id: person.id,
        referrer: None,
        scope,
        ctx,
    };
    let rsvp = book(&tx, &shift, &event, booking).await?;
    tx.commit().await?;
    Ok(rsvp)
}

/// Cancels an RSVP; a seat it held goes to the oldest waitlisted RSVP. Idempotent.
pub async fn cancel(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<rsvps::Model> {
    let rsvp = get(db, &Can::vouched(scope), id).await?;
    cancel_in_tx(db, scope, ctx, rsvp).await
}

/// The public cancels their own RSVP with the token from its link or calendar invite.
pub async fn cancel_by_token(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
) -> DomainResult<rsvps::Model> {
    let rsvp = by_public_token(db, token).await?;
    let scope = crate::organization::public_scope(db.conn(), rsvp.organization_id).await?;
    cancel_in_tx(db, &scope, ctx, rsvp).await
}

async fn cancel_in_tx(
    db: &Db,
    scope: &OrgScope,
    ctx: &RequestContext,
    rsvp: rsvps::Model,
) -> DomainResult<rsvps::Model> {
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), rsvp.shift_id).await?;
    let rsvp = cancel_locked(&tx, scope, ctx, (&shift, &event), rsvp.id).await?;
    tx.commit().await?;
    Ok(rsvp)
}

/// Cancels RSVP `id` of the locked shift and gives its seat to the waitlist. Idempotent; an
/// RSVP already marked attended or no-show is a `Conflict`.
async fn cancel_locked(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    ctx: &RequestContext,
    (shift, event): (&shifts::Model, &events::Model),
    id: Uuid,
) -> DomainResult<rsvps::Model> {
    // Re-read under the lock: the status may have changed since.
    let rsvp = rsvps::Entity::find_by_id(id)
        .one(tx)
        .await?
        .ok_or(DomainError::not_found("RSVP"))?;
    let status = status_of(&rsvp)?;
    if status == RsvpStatus::Cancelled {
        return Ok(rsvp);
    }
    if matches!(status, RsvpStatus::Attended | RsvpStatus::NoShow) {
        return Err(DomainError::Conflict(format!(
            "the RSVP is already marked {}; it cannot be cancelled",
            status.as_str()
        )));
    }
    let mut am = rsvp.into_active_model();
    am.status = Set(RsvpStatus::Cancelled.as_str().to_owned());
    am.updated_at = Set(Utc::now());
    let rsvp = am.update(tx).await?;
    audit::record(
        tx,
        scope,
        ctx,
        "rsvp.cancel",
        "rsvp",
        Some(rsvp.id),
        &["status"],
    )
    .await?;
    outbox::record(
        tx,
        scope,
        outbox::DomainEvent::RsvpCancelled(payload(&rsvp, shift)),
    )
    .await?;
    promote_waitlisted(tx, scope, shift, event).await?;
    Ok(rsvp)
}

/// The public confirms their own RSVP ("still coming") from its link. Idempotent; a
/// waitlisted or cancelled RSVP is a `Conflict`.
pub async fn confirm_by_token(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
) -> DomainResult<rsvps::Model> {
    let rsvp = by_public_token(db, token).await?;
    let scope = crate::organization::public_scope(db.conn(), rsvp.organization_id).await?;
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), rsvp.shift_id).await?;
    let rsvp = rsvps::Entity::find_by_id(rsvp.id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("RSVP"))?;
    let rsvp = transition(
        &tx,
        &scope,
        ctx,
        &shift,
        &event,
        rsvp,
        RsvpStatus::Confirmed,
    )
    .await?;
    tx.commit().await?;
    Ok(rsvp)
}

/// How far ahead a texted "C" looks for the shift to confirm: the reminders go out a day and
/// two hours before.
pub const CONFIRM_BY_TEXT_HOURS: i64 = 72;

/// A person texted "C" (or Y, YES, CONFIRM) back to a reminder: their soonest signed-up RSVP
/// to a shift starting in the next [`CONFIRM_BY_TEXT_HOURS`] is confirmed, as its link would.
/// `None` when they have none. Two statements and the confirmation's own.
pub async fn confirm_next_by_text(db: &Db, person_id: Uuid) -> DomainResult<Option<rsvps::Model>> {
    let now = Utc::now();
    let next = rsvps::Entity::find()
        .inner_join(shifts::Entity)
        .filter(rsvps::Column::PersonId.eq(person_id))
        .filter(rsvps::Column::Status.eq(RsvpStatus::SignedUp.as_str()))
        .filter(shifts::Column::CancelledAt.is_null())
        .filter(shifts::Column::StartsAt.gt(now))
        .filter(shifts::Column::StartsAt.lte(now + chrono::Duration::hours(CONFIRM_BY_TEXT_HOURS)))
        .order_by_asc(shifts::Column::StartsAt)
        .one(db.conn())
        .await?;
    match next {
        Some(rsvp) => Ok(Some(
            confirm_by_token(db, &RequestContext::default(), &rsvp.public_token).await?,
        )),
        None => Ok(None),
    }
}

/// The public takes up their cancelled RSVP again from its link: a seat if one is free, else
/// the waitlist. An active RSVP is returned as it is.
pub async fn rebook_by_token(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
) -> DomainResult<rsvps::Model> {
    let rsvp = by_public_token(db, token).await?;
    let scope = crate::organization::public_scope(db.conn(), rsvp.organization_id).await?;
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), rsvp.shift_id).await?;
    let booking = Booking {
        person_id: rsvp.person_id,
        referrer: rsvp.referrer_person_id,
        scope: &scope,
        ctx,
    };
    let rsvp = book(&tx, &shift, &event, booking).await?;
    tx.commit().await?;
    Ok(rsvp)
}

/// The event of an RSVP and all its shifts by start, for the RSVP's own page. The link is the
/// credential, so the event is shown even when it is not (or no longer) public.
pub async fn event_and_shifts(
    db: &Db,
    rsvp: &rsvps::Model,
) -> DomainResult<(events::Model, Vec<shifts::Model>)> {
    let shift = shifts::Entity::find_by_id(rsvp.shift_id)
        .filter(shifts::Column::OrganizationId.eq(rsvp.organization_id))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("shift"))?;
    let event = events::Entity::find_by_id(shift.event_id)
        .filter(events::Column::OrganizationId.eq(rsvp.organization_id))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("event"))?;
    // Only a public event's other shifts are offered to move to.
    let shifts = if event.visibility == super::Visibility::Public.as_str() {
        super::shifts_of_event(db, &event).await?
    } else {
        vec![shift]
    };
    Ok((event, shifts))
}

/// The public moves their RSVP to another shift of the same event, in one transaction: the
/// old RSVP is cancelled (its seat goes to the waitlist) and the person is booked on the new
/// shift (a seat, or the waitlist when it is full). Returns the RSVP on the new shift, whose
/// token differs from the old one's.
pub async fn change_shift_by_token(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
    to_shift_id: Uuid,
) -> DomainResult<rsvps::Model> {
    let rsvp = by_public_token(db, token).await?;
    if rsvp.shift_id == to_shift_id {
        return Ok(rsvp);
    }
    let scope = crate::organization::public_scope(db.conn(), rsvp.organization_id).await?;
    let tx = db.begin_write().await?;
    // Both shifts are locked, in id order, so two moves in opposite directions cannot deadlock.
    let (first, second) = if rsvp.shift_id < to_shift_id {
        (rsvp.shift_id, to_shift_id)
    } else {
        (to_shift_id, rsvp.shift_id)
    };
    let a = shift_and_event(&tx, scope.org_id(), first).await?;
    let b = shift_and_event(&tx, scope.org_id(), second).await?;
    let ((from_shift, from_event), (to_shift, to_event)) = if a.0.id == rsvp.shift_id {
        (a, b)
    } else {
        (b, a)
    };
    if to_shift.event_id != from_shift.event_id {
        return Err(DomainError::validation(
            "shiftId",
            "an RSVP can move only to another shift of the same event",
        ));
    }
    cancel_locked(&tx, &scope, ctx, (&from_shift, &from_event), rsvp.id).await?;
    let booking = Booking {
        person_id: rsvp.person_id,
        referrer: rsvp.referrer_person_id,
        scope: &scope,
        ctx,
    };
    let moved = book(&tx, &to_shift, &to_event, booking).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Marks a signed-up RSVP as confirmed (the person said they are still coming). Idempotent.
pub async fn confirm(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<rsvps::Model> {
    set_status(db, scope, ctx, id, RsvpStatus::Confirmed).await
}

/// Checks a person in (staff): attended, now.
pub async fn check_in(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<rsvps::Model> {
    set_status(db, scope, ctx, id, RsvpStatus::Attended).await
}

/// Marks a person as not having come.
pub async fn mark_no_show(
    db: &Db,
    scope: &Can<perm::EventsWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<rsvps::Model> {
    set_status(db, scope, ctx, id, RsvpStatus::NoShow).await
}

async fn set_status(
    db: &Db,
    scope: &OrgScope,
    ctx: &RequestContext,
    id: Uuid,
    to: RsvpStatus,
) -> DomainResult<rsvps::Model> {
    let rsvp = get(db, &Can::vouched(scope), id).await?;
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), rsvp.shift_id).await?;
    let rsvp = rsvps::Entity::find_by_id(rsvp.id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("RSVP"))?;
    let rsvp = transition(&tx, scope, ctx, &shift, &event, rsvp, to).await?;
    tx.commit().await?;
    Ok(rsvp)
}

async fn transition(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    ctx: &RequestContext,
    shift: &shifts::Model,
    event: &events::Model,
    rsvp: rsvps::Model,
    to: RsvpStatus,
) -> DomainResult<rsvps::Model> {
    let from = status_of(&rsvp)?;
    if from == to {
        return Ok(rsvp);
    }
    match to {
        RsvpStatus::Confirmed if from != RsvpStatus::SignedUp => {
            return Err(DomainError::Conflict(format!(
                "only a signed-up RSVP can be confirmed; this one is {}",
                from.as_str()
            )));
        }
        // Back to signed up only from attended: undoing a check-in tapped by mistake.
        RsvpStatus::SignedUp if from != RsvpStatus::Attended => {
            return Err(DomainError::Conflict(format!(
                "only a checked-in RSVP can have its check-in undone; this one is {}",
                from.as_str()
            )));
        }
        RsvpStatus::Attended | RsvpStatus::NoShow | RsvpStatus::SignedUp => bookable(shift, event)?,
        _ => {}
    }
    let now = Utc::now();
    let mut am = rsvp.into_active_model();
    am.status = Set(to.as_str().to_owned());
    match to {
        RsvpStatus::Attended => am.checked_in_at = Set(Some(now)),
        RsvpStatus::NoShow | RsvpStatus::SignedUp => am.checked_in_at = Set(None),
        _ => {}
    }
    am.updated_at = Set(now);
    let rsvp = am.update(tx).await?;
    let action = match to {
        RsvpStatus::Confirmed => "rsvp.confirm",
        RsvpStatus::Attended => "rsvp.check_in",
        RsvpStatus::SignedUp => "rsvp.undo_check_in",
        _ => "rsvp.no_show",
    };
    audit::record(tx, scope, ctx, action, "rsvp", Some(rsvp.id), &["status"]).await?;
    let changed = payload(&rsvp, shift);
    let event = match to {
        RsvpStatus::Confirmed => outbox::DomainEvent::RsvpConfirmed(changed),
        RsvpStatus::Attended => outbox::DomainEvent::ShiftCheckedIn(changed),
        RsvpStatus::SignedUp => outbox::DomainEvent::RsvpCheckInUndone(changed),
        _ => outbox::DomainEvent::RsvpMarkedNoShow(changed),
    };
    outbox::record(tx, scope, event).await?;
    Ok(rsvp)
}

// --- the public -------------------------------------------------------------------------------

/// A public RSVP: the person, found or created exactly as a sign-up would, and their RSVP.
#[derive(Clone, Debug)]
pub struct PublicRsvp {
    pub rsvp: rsvps::Model,
    pub person: people::Model,
}

/// The public RSVPs to a shift of a public event.
pub async fn create_public(
    db: &Db,
    ctx: &RequestContext,
    shift_id: Uuid,
    contact: &ContactInput,
) -> DomainResult<PublicRsvp> {
    let shift = get_shift(db, None, shift_id).await?;
    let region = crate::organization::settings::phone_region(db, shift.organization_id).await?;
    let contact = validate_contact(contact, &region)?;
    let scope = OrgScope::public(shift.organization_id);
    let source = format!("event:{}", shift.event_id);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tx = db.begin_write().await?;
        let result: Result<PublicRsvp, WriteError> = async {
            let (shift, event) = shift_and_event(&tx, scope.org_id(), shift.id).await?;
            bookable(&shift, &event)?;
            let (person, referrer) =
                upsert_audited(&tx, &scope, ctx, &contact, &source, &event).await?;
            let booking = Booking {
                person_id: person.id,
                referrer,
                scope: &scope,
                ctx,
            };
            let rsvp = book(&tx, &shift, &event, booking).await?;
            Ok(PublicRsvp { rsvp, person })
        }
        .await;
        match result {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(WriteError::Db(err)) if is_unique_violation(&err) && attempt < MAX_ATTEMPTS => {
                tracing::debug!(attempt, "public RSVP lost an insert race; retrying");
                tx.rollback().await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Whether `token` could be one of ours (URL-safe base64, at most 100 characters). Anything else
/// is unknown without a query, so no stray byte (a NUL) reaches the database.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An RSVP by the token of its public link (calendar invite, cancel link).
pub async fn by_public_token(db: &Db, token: &str) -> DomainResult<rsvps::Model> {
    if !is_token(token) {
        return Err(DomainError::not_found("RSVP"));
    }
    rsvps::Entity::find()
        .filter(rsvps::Column::PublicToken.eq(token))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("RSVP"))
}

/// Finds or creates the person a public RSVP or walk-in names (deduplicated like sign-up),
/// placing one without a chapter in the event's (or by zip), and audits it; returns the person
/// and who referred them.
async fn upsert_audited(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    ctx: &RequestContext,
    contact: &ValidContact,
    source: &str,
    event: &events::Model,
) -> Result<(people::Model, Option<Uuid>), WriteError> {
    let upserted = upsert_person(tx, scope.org_id(), contact, source, event.chapter_id).await?;
    let action = if upserted.created {
        "person.create"
    } else {
        "person.update"
    };
    let fields = upserted.fields(contact.present_fields());
    let person = upserted.person;
    audit::record(tx, scope, ctx, action, "person", Some(person.id), &fields).await?;
    Ok((person, upserted.referrer))
}

/// The calendar invite of the RSVP with public token `token` (RFC 5545 text).
pub async fn ics_by_token(db: &Db, token: &str) -> DomainResult<String> {
    let rsvp = by_public_token(db, token).await?;
    ics_of(db, &rsvp).await
}

/// The calendar invite of `rsvp` (RFC 5545 text), as served and as attached to confirmations.
pub async fn ics_of(db: &Db, rsvp: &rsvps::Model) -> DomainResult<String> {
    let shift = shifts::Entity::find_by_id(rsvp.shift_id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("shift"))?;
    let event = events::Entity::find_by_id(shift.event_id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("event"))?;
    let organization = organizations::Entity::find_by_id(rsvp.organization_id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    let person = people::Entity::find_by_id(rsvp.person_id)
        .one(db.conn())
        .await?;
    let name = person.as_ref().map(|p| {
        [p.first_name.as_deref(), p.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    });
    let attendee = person
        .as_ref()
        .and_then(|p| p.email.as_deref())
        .map(|email| ics::Attendee {
            name: name.as_deref().filter(|n| !n.is_empty()),
            email,
        });
    let uid = format!("rsvp-{}@turnout", rsvp.id);
    let cancelled = rsvp.status == RsvpStatus::Cancelled.as_str()
        || shift.cancelled_at.is_some()
        || event.status == EventStatus::Cancelled.as_str();
    Ok(ics::render(&ics::Invite {
        uid: &uid,
        sequence: shift.sequence,
        starts_at: shift.starts_at,
        ends_at: shift.ends_at,
        stamp: Utc::now(),
        title: &event.title,
        description: event.description.as_deref(),
        location: event.location.as_deref(),
        url: event.virtual_url.as_deref(),
        time_zone: &event.time_zone,
        cancelled,
        organizer_name: &organization.name,
        attendee,
    }))
}

// --- the host link ----------------------------------------------------------------------------

/// A shift as its host sees it through the host link: the event, the shift, and who is coming
/// (names and statuses; no contact details).
#[derive(Clone, Debug)]
pub struct HostView {
    pub event: events::Model,
    pub shift: shifts::Model,
    pub roster: Vec<(rsvps::Model, people::Model)>,
}

async fn shift_by_host_token(db: &Db, token: &str) -> DomainResult<shifts::Model> {
    let not_found = || DomainError::not_found("shift");
    if !is_token(token) {
        return Err(not_found());
    }
    shifts::Entity::find()
        .filter(shifts::Column::HostTokenHash.eq(hash_secret(token)))
        .one(db.conn())
        .await?
        .ok_or_else(not_found)
}

/// The roster of the shift whose host token is `token`; cancelled RSVPs are left out.
pub async fn host_view(db: &Db, token: &str) -> DomainResult<HostView> {
    let shift = shift_by_host_token(db, token).await?;
    let event = events::Entity::find_by_id(shift.event_id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("event"))?;
    let rsvps = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.eq(shift.id))
        .filter(rsvps::Column::Status.ne(RsvpStatus::Cancelled.as_str()))
        .order_by_asc(rsvps::Column::Id)
        .all(db.conn())
        .await?;
    let scope = crate::organization::public_scope(db.conn(), shift.organization_id).await?;
    let ids: Vec<Uuid> = rsvps.iter().map(|r| r.person_id).collect();
    let mut people = people_by_ids(db, &Can::vouched(&scope), &ids).await?;
    let roster = rsvps
        .into_iter()
        .filter_map(|r| people.remove(&r.person_id).map(|p| (r, p)))
        .collect();
    Ok(HostView {
        event,
        shift,
        roster,
    })
}

/// The host checks in an RSVP of their shift.
pub async fn host_check_in(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
    rsvp_id: Uuid,
) -> DomainResult<PublicRsvp> {
    host_set_status(db, ctx, token, rsvp_id, RsvpStatus::Attended).await
}

/// The host undoes a check-in tapped by mistake: the RSVP is signed up again.
pub async fn host_undo_check_in(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
    rsvp_id: Uuid,
) -> DomainResult<PublicRsvp> {
    host_set_status(db, ctx, token, rsvp_id, RsvpStatus::SignedUp).await
}

async fn host_set_status(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
    rsvp_id: Uuid,
    to: RsvpStatus,
) -> DomainResult<PublicRsvp> {
    let shift = shift_by_host_token(db, token).await?;
    let scope = crate::organization::public_scope(db.conn(), shift.organization_id).await?;
    let tx = db.begin_write().await?;
    let (shift, event) = shift_and_event(&tx, scope.org_id(), shift.id).await?;
    let rsvp = rsvps::Entity::find_by_id(rsvp_id)
        .filter(rsvps::Column::ShiftId.eq(shift.id))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("RSVP"))?;
    let rsvp = transition(&tx, &scope, ctx, &shift, &event, rsvp, to).await?;
    // The host's roster shows the person's name beside the new status.
    let person = people::Entity::find_by_id(rsvp.person_id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("person"))?;
    tx.commit().await?;
    Ok(PublicRsvp { rsvp, person })
}

/// The host adds someone who walked in: the person is found or created as a sign-up would be,
/// and checked in (walk-ins are there, so capacity does not turn them away).
pub async fn host_walk_in(
    db: &Db,
    ctx: &RequestContext,
    token: &str,
    contact: &ContactInput,
) -> DomainResult<PublicRsvp> {
    let shift = shift_by_host_token(db, token).await?;
    let region = crate::organization::settings::phone_region(db, shift.organization_id).await?;
    let contact = validate_contact(contact, &region)?;
    let scope = crate::organization::public_scope(db.conn(), shift.organization_id).await?;
    let source = format!("walk_in:{}", shift.event_id);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tx = db.begin_write().await?;
        let result: Result<PublicRsvp, WriteError> = async {
            let (shift, event) = shift_and_event(&tx, scope.org_id(), shift.id).await?;
            bookable(&shift, &event)?;
            let (person, _) = upsert_audited(&tx, &scope, ctx, &contact, &source, &event).await?;
            let existing = rsvps::Entity::find()
                .filter(rsvps::Column::ShiftId.eq(shift.id))
                .filter(rsvps::Column::PersonId.eq(person.id))
                .one(&tx)
                .await?;
            let rsvp = match existing {
                Some(rsvp) => rsvp,
                None => {
                    let now = Utc::now();
                    let rsvp = rsvps::ActiveModel {
                        id: Set(Uuid::now_v7()),
                        organization_id: Set(scope.org_id()),
                        shift_id: Set(shift.id),
                        person_id: Set(person.id),
                        status: Set(RsvpStatus::SignedUp.as_str().to_owned()),
                        checked_in_at: Set(None),
                        referrer_person_id: Set(None),
                        utm_source: Set(None),
                        utm_medium: Set(None),
                        utm_campaign: Set(None),
                        public_token: Set(random_token(24)),
                        created_at: Set(now),
                        updated_at: Set(now),
                        missed_at: Set(None),
                        attended_recorded_at: Set(None),
                        walk_in: Set(true),
                    }
                    .insert(&tx)
                    .await?;
                    let mut body = payload(&rsvp, &shift);
                    body.status = RsvpStatus::Attended.as_str().to_owned();
                    let created = outbox::DomainEvent::RsvpCreated {
                        rsvp: body,
                        reactivated: false,
                        referrer_person_id: None,
                        walk_in: true,
                    };
                    outbox::record(&tx, &scope, created).await?;
                    rsvp
                }
            };
            let rsvp =
                transition(&tx, &scope, ctx, &shift, &event, rsvp, RsvpStatus::Attended).await?;
            Ok(PublicRsvp { rsvp, person })
        }
        .await;
        match result {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(WriteError::Db(err)) if is_unique_violation(&err) && attempt < MAX_ATTEMPTS => {
                tracing::debug!(attempt, "walk-in lost an insert race; retrying");
                tx.rollback().await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
}
