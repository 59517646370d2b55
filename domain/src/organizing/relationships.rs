//! Typed, directed connections between people: who is the social leader of whom, who organizes
//! whom, who recruited whom, coworkers and family. The graph a union maps to find the leaders a
//! workplace already follows.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use turnout_entity::relationships;
use uuid::Uuid;

use super::{all_visible, visible_person};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::values::optional_text;

/// The kinds of relationship, each read "from is … of to".
pub const KINDS: [&str; 5] = [
    "coworker",
    "social_leader_of",
    "organizer_of",
    "recruited_by",
    "family",
];

pub struct NewRelationship {
    pub from_person_id: Uuid,
    pub to_person_id: Uuid,
    /// One of [`KINDS`].
    pub kind: String,
    pub note: Option<String>,
}

pub async fn add(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewRelationship,
) -> DomainResult<relationships::Model> {
    if !KINDS.contains(&new.kind.as_str()) {
        return Err(DomainError::validation(
            "input.kind",
            "must be coworker, social_leader_of, organizer_of, recruited_by or family",
        ));
    }
    if new.from_person_id == new.to_person_id {
        return Err(DomainError::validation(
            "input.toPersonId",
            "is the same person as fromPersonId",
        ));
    }
    let note = optional_text("input.note", new.note.as_deref(), 2000)?;
    let tx = db.begin_write().await?;
    visible_person(&tx, scope, "input.fromPersonId", new.from_person_id).await?;
    visible_person(&tx, scope, "input.toPersonId", new.to_person_id).await?;
    let (user, _) = scope.actor_ids();
    let row = relationships::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        from_person_id: Set(new.from_person_id),
        to_person_id: Set(new.to_person_id),
        kind: Set(new.kind),
        note: Set(note),
        created_by_user_id: Set(user),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await
    .map_err(|e| {
        taken_if_unique(
            e,
            "input.kind",
            "these two people have this relationship already",
        )
    })?;
    let event = DomainEvent::RelationshipAdded {
        relationship_id: row.id,
        person_id: row.from_person_id,
        other_person_id: row.to_person_id,
        kind: row.kind.clone(),
    };
    outbox::record(&tx, scope, event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "relationship.add",
        "relationship",
        Some(row.id),
        &["from_person_id", "to_person_id", "kind", "note"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Removes a relationship; both people must be visible to the scope.
pub async fn remove(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<relationships::Model> {
    let tx = db.begin_write().await?;
    let row = relationships::Entity::find_by_id(id)
        .filter(relationships::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("relationship"))?;
    if all_visible(&tx, scope, &[row.from_person_id, row.to_person_id])
        .await?
        .len()
        < 2
    {
        return Err(DomainError::not_found("relationship"));
    }
    relationships::Entity::delete_by_id(id).exec(&tx).await?;
    let event = DomainEvent::RelationshipRemoved {
        relationship_id: row.id,
        person_id: row.from_person_id,
        other_person_id: row.to_person_id,
        kind: row.kind.clone(),
    };
    outbox::record(&tx, scope, event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "relationship.remove",
        "relationship",
        Some(row.id),
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Every relationship of each of `person_ids`, both directions, oldest first, whose other
/// person the scope may also see (chapter limits hide the rest), in two statements.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<relationships::Model>>> {
    let rows = relationships::Entity::find()
        .filter(relationships::Column::OrganizationId.eq(scope.org_id()))
        .filter(
            Condition::any()
                .add(relationships::Column::FromPersonId.is_in(person_ids.iter().copied()))
                .add(relationships::Column::ToPersonId.is_in(person_ids.iter().copied())),
        )
        .order_by_asc(relationships::Column::Id)
        .all(db.conn())
        .await?;
    let mut ends: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.from_person_id, r.to_person_id])
        .collect();
    ends.sort_unstable();
    ends.dedup();
    // Both ends must be visible: the person asked about (chapter limits) and the other one.
    let seen: HashSet<Uuid> = all_visible(db.conn(), scope, &ends)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let wanted: HashSet<Uuid> = person_ids.iter().copied().collect();
    let mut by_person: HashMap<Uuid, Vec<relationships::Model>> = HashMap::new();
    for row in rows {
        if !(seen.contains(&row.from_person_id) && seen.contains(&row.to_person_id)) {
            continue;
        }
        for end in [row.from_person_id, row.to_person_id] {
            if wanted.contains(&end) {
                by_person.entry(end).or_default().push(row.clone());
            }
        }
    }
    Ok(by_person)
}

/// The other end of a relationship, seen from `person_id`.
pub fn other_of(row: &relationships::Model, person_id: Uuid) -> Uuid {
    if row.from_person_id == person_id {
        row.to_person_id
    } else {
        row.from_person_id
    }
}

/// One connection of a person: the relationship, the other person, and the other person's
/// standing in a campaign when one is asked for.
pub struct Connection {
    pub relationship: relationships::Model,
    pub other: turnout_entity::people::Model,
    pub standing: Option<turnout_entity::campaign_people::Model>,
}

/// Who `person_id` is connected to (both directions), with their standing in `campaign_id`:
/// the graph one step out, in four statements.
pub async fn connections(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    person_id: Uuid,
    campaign_id: Option<Uuid>,
) -> DomainResult<Vec<Connection>> {
    visible_person(db.conn(), scope, "personId", person_id).await?;
    let rows = of_people(db, scope, &[person_id])
        .await?
        .remove(&person_id)
        .unwrap_or_default();
    let others: Vec<Uuid> = rows.iter().map(|r| other_of(r, person_id)).collect();
    let people: HashMap<Uuid, turnout_entity::people::Model> =
        all_visible(db.conn(), scope, &others)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
    let mut standings = match campaign_id {
        Some(campaign) => super::standing::in_campaign(db.conn(), scope, campaign, &others).await?,
        None => HashMap::new(),
    };
    Ok(rows
        .into_iter()
        .filter_map(|relationship| {
            let other_id = other_of(&relationship, person_id);
            let other = people.get(&other_id)?.clone();
            Some(Connection {
                standing: standings.remove(&other_id),
                relationship,
                other,
            })
        })
        .collect())
}
