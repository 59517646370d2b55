//! Effects on shifts: RSVP a person (if the shift is not cancelled, not over, and has room).

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, Set};
use turnout_entity::{rsvps, shifts};
use uuid::Uuid;

use super::{ApplyCtx, emit, person_in_org};
use crate::error::{DomainError, DomainResult};

/// RSVP statuses that do not hold a place.
const NOT_HOLDING: [&str; 2] = ["cancelled", "declined"];

pub(super) async fn rsvp(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    shift_id: Uuid,
) -> DomainResult<()> {
    person_in_org(tx, ctx, person_id).await?;
    let shift = shifts::Entity::find_by_id(shift_id)
        .filter(shifts::Column::OrganizationId.eq(ctx.scope.org_id()))
        .one(tx)
        .await?
        .ok_or_else(|| DomainError::validation("shift_id", format!("no shift {shift_id}")))?;
    if shift.cancelled_at.is_some() {
        return Err(DomainError::validation(
            "shift_id",
            "the shift is cancelled",
        ));
    }
    if shift.ends_at <= Utc::now() {
        return Err(DomainError::validation("shift_id", "the shift is over"));
    }
    let existing = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.eq(shift_id))
        .filter(rsvps::Column::PersonId.eq(person_id))
        .one(tx)
        .await?;
    if existing.is_some() {
        return Ok(());
    }
    if let Some(capacity) = shift.capacity {
        let taken = rsvps::Entity::find()
            .filter(rsvps::Column::ShiftId.eq(shift_id))
            .filter(rsvps::Column::Status.is_not_in(NOT_HOLDING))
            .count(tx)
            .await?;
        if taken >= u64::try_from(capacity.max(0)).unwrap_or(0) {
            return Err(DomainError::validation("shift_id", "the shift is full"));
        }
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    rsvps::Entity::insert(rsvps::ActiveModel {
        id: Set(id),
        organization_id: Set(ctx.scope.org_id()),
        shift_id: Set(shift_id),
        person_id: Set(person_id),
        status: Set("signed_up".into()),
        checked_in_at: Set(None),
        missed_at: Set(None),
        attended_recorded_at: Set(None),
        walk_in: Set(false),
        referrer_person_id: Set(None),
        utm_source: Set(None),
        utm_medium: Set(None),
        utm_campaign: Set(None),
        public_token: Set(crate::auth::random_token(24)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict_do_nothing_on([rsvps::Column::ShiftId, rsvps::Column::PersonId])
    .exec_without_returning(tx)
    .await?;
    emit(
        tx,
        ctx,
        crate::outbox::DomainEvent::ShiftRsvped {
            rsvp_id: id,
            shift_id,
            person_id,
        },
    )
    .await?;
    Ok(())
}
