//! Work that happens because time passes: shift reminders and the sweep of ended shifts
//! (`shift.missed`, `shift.attended`), plus the claim that makes a cron tick run once when
//! several worker processes all tick.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, LocalResult, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use turnout_entity::{events, rsvps, schedule_ticks, shift_reminders, shifts};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::{self, Db};
use crate::error::DomainResult;
use crate::outbox;

/// RSVP statuses that expect the person to come.
pub const EXPECTED: [&str; 2] = ["signed_up", "confirmed"];
/// Reminders are planned this far ahead at most (longer offsets are capped).
const MAX_REMINDER_OFFSET_MINUTES: i64 = 14 * 24 * 60;
/// Offsets used when an event names none.
pub const DEFAULT_REMINDER_OFFSETS: [i64; 2] = [24 * 60, 2 * 60];
/// The sweep looks back this far for ended shifts (older ones were swept, or predate Turnout).
const SWEEP_LOOKBACK: Duration = Duration::days(7);

/// Claims the tick of `schedule` at `tick_at`. Exactly one caller across all processes gets
/// `true`; the others skip that tick.
pub async fn claim_tick(db: &Db, schedule: &str, tick_at: DateTime<Utc>) -> DomainResult<bool> {
    let result = schedule_ticks::ActiveModel {
        schedule: Set(schedule.to_owned()),
        tick_at: Set(tick_at),
        claimed_at: Set(Utc::now()),
    }
    .insert(db.conn())
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(err) if db::is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// When the reminder `offset_minutes` before `starts_at` is due. Whole days are counted on the
/// event's wall clock, so "one day before" a 10:00 shift is 10:00 the day before even across a
/// daylight-saving change; other offsets are plain minutes.
pub fn reminder_time(
    starts_at: DateTime<Utc>,
    offset_minutes: i64,
    time_zone: &str,
) -> DateTime<Utc> {
    let plain = starts_at - Duration::minutes(offset_minutes);
    if offset_minutes % (24 * 60) != 0 {
        return plain;
    }
    let Ok(tz) = time_zone.parse::<chrono_tz::Tz>() else {
        return plain;
    };
    let local =
        starts_at.with_timezone(&tz).naive_local() - Duration::days(offset_minutes / (24 * 60));
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => plain,
    }
}

/// The offsets an event asks for, valid and capped.
fn offsets(event: &events::Model) -> Vec<i64> {
    let listed: Vec<i64> = event
        .reminder_offsets_minutes
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
        .unwrap_or_default();
    let chosen = if event.reminder_offsets_minutes.is_array() {
        listed
    } else {
        DEFAULT_REMINDER_OFFSETS.to_vec()
    };
    chosen
        .into_iter()
        .filter(|m| *m > 0 && *m <= MAX_REMINDER_OFFSET_MINUTES)
        .collect()
}

/// Records every shift reminder due at `now`: a `shift.reminder_due` event per RSVP (the
/// workers turn it into a message). Each (RSVP, offset) is handled once, ever; when several
/// offsets are due at once (the workers were down), only the latest is sent and the earlier
/// ones are recorded as passed. Returns how many reminders were recorded.
pub async fn record_due_reminders(db: &Db, now: DateTime<Utc>) -> DomainResult<usize> {
    let horizon = now + Duration::minutes(MAX_REMINDER_OFFSET_MINUTES);
    let upcoming = shifts::Entity::find()
        .filter(shifts::Column::StartsAt.gt(now))
        .filter(shifts::Column::StartsAt.lte(horizon))
        .filter(shifts::Column::CancelledAt.is_null())
        .all(db.conn())
        .await?;
    if upcoming.is_empty() {
        return Ok(0);
    }
    let event_ids: HashSet<Uuid> = upcoming.iter().map(|s| s.event_id).collect();
    let events: HashMap<Uuid, events::Model> = events::Entity::find()
        .filter(events::Column::Id.is_in(event_ids))
        .filter(events::Column::Status.ne("cancelled"))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    // Which offsets are due now, per shift.
    let mut due_by_shift: HashMap<Uuid, (Vec<i64>, &shifts::Model, &events::Model)> =
        HashMap::new();
    for shift in &upcoming {
        let Some(event) = events.get(&shift.event_id) else {
            continue;
        };
        let due: Vec<i64> = offsets(event)
            .into_iter()
            .filter(|m| reminder_time(shift.starts_at, *m, &event.time_zone) <= now)
            .collect();
        if !due.is_empty() {
            due_by_shift.insert(shift.id, (due, shift, event));
        }
    }
    if due_by_shift.is_empty() {
        return Ok(0);
    }
    let attendees = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.is_in(due_by_shift.keys().copied()))
        .filter(rsvps::Column::Status.is_in(EXPECTED))
        .all(db.conn())
        .await?;
    let done: HashSet<(Uuid, i32)> = shift_reminders::Entity::find()
        .filter(shift_reminders::Column::RsvpId.is_in(attendees.iter().map(|r| r.id)))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|r| (r.rsvp_id, r.offset_minutes))
        .collect();
    let mut recorded = 0;
    for rsvp in &attendees {
        let Some((due, shift, event)) = due_by_shift.get(&rsvp.shift_id) else {
            continue;
        };
        let pending: Vec<i32> = due
            .iter()
            .filter_map(|m| i32::try_from(*m).ok())
            .filter(|m| !done.contains(&(rsvp.id, *m)))
            .collect();
        let Some(&latest) = pending.iter().min() else {
            continue;
        };
        let scope = OrgScope::system(rsvp.organization_id);
        let tx = db.begin_write().await?;
        let mut claimed = true;
        for offset in &pending {
            let inserted = shift_reminders::ActiveModel {
                organization_id: Set(rsvp.organization_id),
                rsvp_id: Set(rsvp.id),
                offset_minutes: Set(*offset),
                sent_at: Set(now),
            }
            .insert(&tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Another process recorded it between our read and this write.
                Err(err) if db::is_unique_violation(&err) => claimed = false,
                Err(err) => return Err(err.into()),
            }
        }
        if !claimed {
            tx.rollback().await?;
            continue;
        }
        outbox::record(
            &tx,
            &scope,
            outbox::DomainEvent::ShiftReminderDue {
                rsvp_id: rsvp.id,
                person_id: rsvp.person_id,
                shift_id: shift.id,
                event_id: event.id,
                offset_minutes: latest,
                starts_at: shift.starts_at,
                time_zone: event.time_zone.clone(),
            },
        )
        .await?;
        tx.commit().await?;
        recorded += 1;
    }
    Ok(recorded)
}

/// Closes the shifts that ended more than `grace` ago. Every RSVP still expected, without a
/// check-in, is marked `no_show` and gets `shift.missed`; every checked-in RSVP gets
/// `shift.attended`. Each is recorded once per RSVP, ever (a later status change does not make
/// it count again). Returns how many were recorded.
pub async fn sweep_missed_shifts(
    db: &Db,
    now: DateTime<Utc>,
    grace: Duration,
) -> DomainResult<usize> {
    let ended_before = now - grace;
    let ended = shifts::Entity::find()
        .filter(shifts::Column::EndsAt.lte(ended_before))
        .filter(shifts::Column::EndsAt.gt(ended_before - SWEEP_LOOKBACK))
        .filter(shifts::Column::CancelledAt.is_null())
        .all(db.conn())
        .await?;
    if ended.is_empty() {
        return Ok(0);
    }
    let by_id: HashMap<Uuid, &shifts::Model> = ended.iter().map(|s| (s.id, s)).collect();
    let attended = record_attended(db, now, &by_id).await?;
    let missed = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.is_in(by_id.keys().copied()))
        .filter(rsvps::Column::Status.is_in(EXPECTED))
        .filter(rsvps::Column::CheckedInAt.is_null())
        .filter(rsvps::Column::MissedAt.is_null())
        .all(db.conn())
        .await?;
    let mut marked = 0;
    for rsvp in missed {
        let Some(shift) = by_id.get(&rsvp.shift_id) else {
            continue;
        };
        // The conditions again, so a concurrent check-in or another sweeper wins cleanly.
        let claim = rsvps::Entity::update_many()
            .col_expr(rsvps::Column::Status, Expr::val("no_show"))
            .col_expr(rsvps::Column::MissedAt, Expr::val(now))
            .col_expr(rsvps::Column::UpdatedAt, Expr::val(now))
            .filter(rsvps::Column::Id.eq(rsvp.id))
            .filter(rsvps::Column::Status.is_in(EXPECTED))
            .filter(rsvps::Column::CheckedInAt.is_null())
            .filter(rsvps::Column::MissedAt.is_null());
        let event = outbox::DomainEvent::ShiftMissed {
            rsvp_id: rsvp.id,
            person_id: rsvp.person_id,
            shift_id: shift.id,
            event_id: shift.event_id,
            ended_at: shift.ends_at,
        };
        if claim_and_record(db, &rsvp, claim, event).await? {
            marked += 1;
        }
    }
    Ok(marked + attended)
}

/// Records `shift.attended` for each checked-in RSVP on the `ended` shifts that has none yet.
async fn record_attended(
    db: &Db,
    now: DateTime<Utc>,
    ended: &HashMap<Uuid, &shifts::Model>,
) -> DomainResult<usize> {
    let attended = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.is_in(ended.keys().copied()))
        .filter(rsvps::Column::Status.eq("attended"))
        .filter(rsvps::Column::CheckedInAt.is_not_null())
        .filter(rsvps::Column::AttendedRecordedAt.is_null())
        .all(db.conn())
        .await?;
    let mut recorded = 0;
    for rsvp in attended {
        let Some(shift) = ended.get(&rsvp.shift_id) else {
            continue;
        };
        // Claimed in the transaction, so two sweepers record it once.
        let claim = rsvps::Entity::update_many()
            .col_expr(rsvps::Column::AttendedRecordedAt, Expr::val(now))
            .filter(rsvps::Column::Id.eq(rsvp.id))
            .filter(rsvps::Column::AttendedRecordedAt.is_null());
        let event = outbox::DomainEvent::ShiftAttended {
            rsvp_id: rsvp.id,
            person_id: rsvp.person_id,
            shift_id: shift.id,
            event_id: shift.event_id,
            ended_at: shift.ends_at,
        };
        if claim_and_record(db, &rsvp, claim, event).await? {
            recorded += 1;
        }
    }
    Ok(recorded)
}

/// In one transaction: `claim` the RSVP (an update that matches it only if nobody did yet)
/// and, when it did, record `event`. False when another sweeper or a check-in came first.
async fn claim_and_record(
    db: &Db,
    rsvp: &rsvps::Model,
    claim: sea_orm::UpdateMany<rsvps::Entity>,
    event: outbox::DomainEvent,
) -> DomainResult<bool> {
    let tx = db.begin_write().await?;
    if claim.exec(&tx).await?.rows_affected != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    outbox::record(&tx, &OrgScope::system(rsvp.organization_id), event).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_offsets_follow_the_wall_clock_across_dst() {
        // 2026-03-08 is the US spring-forward day: 10:00 EDT that day is 14:00 UTC; the day
        // before at 10:00 EST is 15:00 UTC, 23 hours earlier, not 24.
        let start = Utc
            .with_ymd_and_hms(2026, 3, 8, 14, 0, 0)
            .single()
            .expect("time");
        let due = reminder_time(start, 1440, "America/New_York");
        assert_eq!(
            due,
            Utc.with_ymd_and_hms(2026, 3, 7, 15, 0, 0)
                .single()
                .expect("time")
        );
        // Minute offsets are plain durations.
        assert_eq!(
            reminder_time(start, 120, "America/New_York"),
            start - Duration::hours(2)
        );
        // An unknown zone falls back to plain minutes.
        assert_eq!(
            reminder_time(start, 1440, "Mars/Olympus"),
            start - Duration::days(1)
        );
    }
}
