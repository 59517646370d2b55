//! The messages Turnout itself sends because something happened: an RSVP's confirmation (by
//! email with its calendar invite, or by SMS to someone who gave only a phone) and a shift
//! reminder, the news that a shift moved or was cancelled (with the updated invite), and, when
//! the organization switches them on, a thank-you after a shift or a "we missed you". The
//! workers call [`on_event`] for every
//! dispatched event; each message carries an idempotency key derived from the event, so a
//! dispatch that runs twice queues nothing twice. Both carry the RSVP's own page
//! (`rsvp_url`, absolute), where the person confirms, cancels or changes shift.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use turnout_entity::{domain_events, organizations, people, rsvps, shifts};
use uuid::Uuid;

use super::{Attachment, Channel, Content, NewMessage, queue_message};
use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;
use crate::events::rsvps::ics_of;
use crate::links::PublicLinks;
use crate::outbox::kinds;

/// RSVP statuses that hold a seat and get a confirmation.
const SEATED: [&str; 2] = ["signed_up", "confirmed"];

/// Queues the messages `event` calls for, if any. Returns how many were queued.
pub async fn on_event(
    db: &Db,
    event: &domain_events::Model,
    links: &PublicLinks,
) -> DomainResult<usize> {
    match event.kind.as_str() {
        kinds::RSVP_CREATED | kinds::RSVP_PROMOTED => confirm_rsvp(db, event, links).await,
        kinds::SHIFT_REMINDER_DUE => remind(db, event, links).await,
        kinds::EVENT_CHANGED => tell_attendees(db, event, links).await,
        kinds::SHIFT_ATTENDED => after_shift(db, event, links, AfterShift::Thanks).await,
        kinds::SHIFT_MISSED => after_shift(db, event, links, AfterShift::MissedYou).await,
        _ => Ok(0),
    }
}

fn rsvp_id_of(event: &domain_events::Model) -> Option<Uuid> {
    event
        .payload
        .get("rsvp_id")
        .and_then(|v| v.as_str()?.parse().ok())
        .or((event.subject_type == "rsvp").then_some(event.subject_id))
}

async fn confirm_rsvp(
    db: &Db,
    event: &domain_events::Model,
    links: &PublicLinks,
) -> DomainResult<usize> {
    let Some(rsvp) = load_rsvp(db, event).await? else {
        return Ok(0);
    };
    if !SEATED.contains(&rsvp.status.as_str()) {
        return Ok(0);
    }
    let vars = serde_json::json!({
        "shift_id": rsvp.shift_id,
        "rsvp_url": links.rsvp(&rsvp.public_token),
    });
    let key = format!("rsvp-confirmation:{}", event.id);
    let msg = about_rsvp(db, &rsvp, "rsvp_confirmation", vars, key).await?;
    queue(db, event, msg).await
}

async fn remind(db: &Db, event: &domain_events::Model, links: &PublicLinks) -> DomainResult<usize> {
    let Some(rsvp) = load_rsvp(db, event).await? else {
        return Ok(0);
    };
    if !SEATED.contains(&rsvp.status.as_str()) {
        return Ok(0);
    }
    let Some(person) = people::Entity::find_by_id(rsvp.person_id)
        .one(db.conn())
        .await?
    else {
        return Ok(0);
    };
    // A text reaches people sooner; only with consent, else email.
    let channel = if person.sms_consent && person.phone.is_some() {
        Channel::Sms
    } else {
        Channel::Email
    };
    let msg = NewMessage {
        person_id: person.id,
        channel,
        content: Content::Template {
            key: "shift_reminder".into(),
            vars: serde_json::json!({
                "shift_id": rsvp.shift_id,
                "offset_minutes": event.payload.get("offset_minutes"),
                "rsvp_url": links.rsvp(&rsvp.public_token),
            }),
        },
        idempotency_key: Some(format!("shift-reminder:{}", event.id)),
        attachment: None,
    };
    queue(db, event, msg).await
}

/// A message about `rsvp` from template `template`: by email with the calendar invite as it
/// stands, or by SMS to a volunteer who gave only a phone and agreed to texts (so they hear
/// from us before the reminder).
async fn about_rsvp(
    db: &Db,
    rsvp: &rsvps::Model,
    template: &str,
    vars: serde_json::Value,
    idempotency_key: String,
) -> DomainResult<NewMessage> {
    let by_text = by_text(db, rsvp).await?;
    let attachment = if by_text {
        None
    } else {
        Some(invite(db, rsvp).await?)
    };
    Ok(NewMessage {
        person_id: rsvp.person_id,
        channel: if by_text {
            Channel::Sms
        } else {
            Channel::Email
        },
        content: Content::Template {
            key: template.into(),
            vars,
        },
        idempotency_key: Some(idempotency_key),
        attachment,
    })
}

/// Whether the RSVP's person is told by SMS rather than email: they gave no email, but a phone
/// and their consent to texts.
async fn by_text(db: &Db, rsvp: &rsvps::Model) -> DomainResult<bool> {
    let person = people::Entity::find_by_id(rsvp.person_id)
        .one(db.conn())
        .await?;
    Ok(person.is_some_and(|p| p.email.is_none() && p.sms_consent && p.phone.is_some()))
}

/// The RSVP's calendar invite as it stands: a request (its sequence bumped by every change of
/// time or place), or a cancellation once the shift or event is cancelled.
async fn invite(db: &Db, rsvp: &rsvps::Model) -> DomainResult<Attachment> {
    let ics = ics_of(db, rsvp).await?;
    let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
        "CANCEL"
    } else {
        "REQUEST"
    };
    Ok(Attachment {
        filename: "invite.ics".into(),
        content_type: format!("text/calendar; method={method}; charset=utf-8"),
        bytes: ics.into_bytes(),
    })
}

/// A shift moved, or a shift or the whole event was cancelled (or its place changed): each
/// person holding a seat in it is told, with the updated invite (or its cancellation). One
/// message per person per change, however often the event is dispatched.
async fn tell_attendees(
    db: &Db,
    event: &domain_events::Model,
    links: &PublicLinks,
) -> DomainResult<usize> {
    if event.payload.get("calendar_changed") != Some(&serde_json::Value::Bool(true)) {
        return Ok(0);
    }
    let id = |key: &str| {
        event
            .payload
            .get(key)
            .and_then(|v| v.as_str()?.parse::<Uuid>().ok())
    };
    let Some(event_id) = id("event_id") else {
        return Ok(0);
    };
    let cancelled = matches!(
        event.payload.get("change").and_then(|v| v.as_str()),
        Some("cancelled" | "shift_cancelled")
    );
    let mut shifts = shifts::Entity::find()
        .filter(shifts::Column::EventId.eq(event_id))
        .filter(shifts::Column::OrganizationId.eq(event.organization_id));
    if let Some(shift_id) = id("shift_id") {
        shifts = shifts.filter(shifts::Column::Id.eq(shift_id));
    }
    let shift_ids: Vec<Uuid> = shifts
        .all(db.conn())
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let seated = rsvps::Entity::find()
        .filter(rsvps::Column::ShiftId.is_in(shift_ids))
        .filter(rsvps::Column::Status.is_in(SEATED))
        .all(db.conn())
        .await?;
    let mut queued = 0;
    for rsvp in seated {
        let vars = serde_json::json!({
            "shift_id": rsvp.shift_id,
            "cancelled": cancelled,
            "rsvp_url": links.rsvp(&rsvp.public_token),
        });
        let key = format!("event-change:{}:{}", event.id, rsvp.id);
        let msg = about_rsvp(db, &rsvp, "shift_changed", vars, key).await?;
        queued += queue(db, event, msg).await?;
    }
    Ok(queued)
}

/// The two messages after a shift, each switched on per organization.
#[derive(Clone, Copy)]
enum AfterShift {
    Thanks,
    MissedYou,
}

/// A thank-you or a "we missed you" arriving days late reads as a mistake: the sweep runs
/// within minutes of the grace period, so only an outage ever skips one.
const AFTER_SHIFT_WITHIN: chrono::Duration = chrono::Duration::hours(24);

async fn after_shift(
    db: &Db,
    event: &domain_events::Model,
    links: &PublicLinks,
    which: AfterShift,
) -> DomainResult<usize> {
    let Some(org) = organizations::Entity::find_by_id(event.organization_id)
        .one(db.conn())
        .await?
    else {
        return Ok(0);
    };
    let (switched_on, template, status) = match which {
        AfterShift::Thanks => (org.thank_attendees, "shift_thanks", "attended"),
        AfterShift::MissedYou => (org.follow_up_no_shows, "shift_missed", "no_show"),
    };
    let ended_at = event
        .payload
        .get("ended_at")
        .and_then(|v| serde_json::from_value::<chrono::DateTime<chrono::Utc>>(v.clone()).ok());
    let recent = ended_at.is_some_and(|t| chrono::Utc::now() - t <= AFTER_SHIFT_WITHIN);
    if !switched_on || !recent {
        return Ok(0);
    }
    // Still so: staff may have corrected the RSVP since the sweep.
    let Some(rsvp) = load_rsvp(db, event).await?.filter(|r| r.status == status) else {
        return Ok(0);
    };
    let Some(person) = people::Entity::find_by_id(rsvp.person_id)
        .one(db.conn())
        .await?
        .filter(|p| p.archived_at.is_none())
    else {
        return Ok(0);
    };
    // Email when we have it; a text only with consent; nobody else can be reached.
    let channel = if person.email.is_some() {
        Channel::Email
    } else if person.sms_consent && person.phone.is_some() {
        Channel::Sms
    } else {
        return Ok(0);
    };
    let msg = NewMessage {
        person_id: person.id,
        channel,
        content: Content::Template {
            key: template.into(),
            vars: serde_json::json!({
                "shift_id": rsvp.shift_id,
                "events_url": links.events(&org.slug),
            }),
        },
        idempotency_key: Some(format!("{template}:{}", rsvp.id)),
        attachment: None,
    };
    queue(db, event, msg).await
}

async fn load_rsvp(db: &Db, event: &domain_events::Model) -> DomainResult<Option<rsvps::Model>> {
    let Some(id) = rsvp_id_of(event) else {
        return Ok(None);
    };
    Ok(rsvps::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .filter(|r| r.organization_id == event.organization_id))
}

async fn queue(db: &Db, event: &domain_events::Model, msg: NewMessage) -> DomainResult<usize> {
    let tx = db.begin_write().await?;
    let queued = queue_message(&tx, &OrgScope::system(event.organization_id), msg).await?;
    tx.commit().await?;
    Ok(usize::from(queued.is_some()))
}
