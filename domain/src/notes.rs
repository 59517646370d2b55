//! Notes on people: a call, a text, a conversation, with its outcome, written by staff.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::notes;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::Actor;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::person_write::find_in;
use crate::values::optional_text;

/// What kind of contact a note records.
pub const KINDS: [&str; 4] = ["call", "text", "conversation", "other"];

/// The kind of the note a one-on-one writes ([`crate::organizing::one_on_ones`]); staff log
/// those through it, not as a plain note, so each has its organizing detail.
pub const ONE_ON_ONE: &str = "one_on_one";

#[derive(Clone, Debug)]
pub struct NewNote {
    pub person_id: Uuid,
    /// One of [`KINDS`].
    pub kind: String,
    pub outcome: Option<String>,
    pub body: String,
    /// When the contact happened; now when not given.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Adds a note to a person; the author is the calling user (none for an API key).
pub async fn create(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    new: NewNote,
) -> DomainResult<notes::Model> {
    if !KINDS.contains(&new.kind.as_str()) {
        return Err(DomainError::validation(
            "input.kind",
            "must be call, text, conversation or other (log a one-on-one with logOneOnOne)",
        ));
    }
    let (body, outcome, now) = checked(&new)?;
    let tx = db.begin_write().await?;
    find_in(&tx, scope, new.person_id).await?;
    let note = insert_in(&tx, scope, ctx, new, body, outcome, now).await?;
    tx.commit().await?;
    Ok(note)
}

/// A note's body, outcome and the time now, checked (the kind is the caller's to check).
pub(crate) fn checked(new: &NewNote) -> DomainResult<(String, Option<String>, DateTime<Utc>)> {
    let outcome = optional_text("input.outcome", new.outcome.as_deref(), 100)?;
    let body = new.body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(DomainError::validation(
            "input.body",
            "must be 1–10000 characters",
        ));
    }
    let now = Utc::now();
    if new
        .occurred_at
        .is_some_and(|at| at > now + chrono::Duration::minutes(5))
    {
        return Err(DomainError::validation(
            "input.occurredAt",
            "is in the future",
        ));
    }
    Ok((body.to_owned(), outcome, now))
}

/// Writes a checked note, its event and its audit row in the caller's transaction (the person
/// was found by the caller).
pub(crate) async fn insert_in<C: sea_orm::ConnectionTrait>(
    tx: &C,
    scope: &crate::auth::OrgScope,
    ctx: &RequestContext,
    new: NewNote,
    body: String,
    outcome: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<notes::Model> {
    let id = Uuid::now_v7();
    let note = notes::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        person_id: Set(new.person_id),
        author_user_id: Set(match scope.actor() {
            Some(Actor::User(u)) => Some(u),
            _ => None,
        }),
        kind: Set(new.kind),
        outcome: Set(outcome),
        body: Set(body),
        occurred_at: Set(new.occurred_at.unwrap_or(now)),
        created_at: Set(now),
    }
    .insert(tx)
    .await?;
    let added = DomainEvent::NoteAdded {
        note_id: id,
        person_id: note.person_id,
        kind: note.kind.clone(),
    };
    outbox::record(tx, scope, added).await?;
    audit::record(
        tx,
        scope,
        ctx,
        "note.create",
        "note",
        Some(id),
        &["person_id", "kind", "outcome", "body", "occurred_at"],
    )
    .await?;
    Ok(note)
}

/// One note of the scope's organization (its person must be visible to the scope).
pub async fn get(db: &Db, scope: &Can<perm::PeopleRead>, id: Uuid) -> DomainResult<notes::Model> {
    let note = notes::Entity::find_by_id(id)
        .filter(notes::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("note"))?;
    find_in(db.conn(), scope, note.person_id)
        .await
        .map_err(|_| DomainError::not_found("note"))?;
    Ok(note)
}

/// The notes of each of `person_ids`, newest first, in one query.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<notes::Model>>> {
    let rows = notes::Entity::find()
        .filter(notes::Column::OrganizationId.eq(scope.org_id()))
        .filter(notes::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_desc(notes::Column::OccurredAt)
        .order_by_desc(notes::Column::Id)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<notes::Model>> = HashMap::new();
    for row in rows {
        by_person.entry(row.person_id).or_default().push(row);
    }
    Ok(by_person)
}
