//! The ladder of engagement: each change of a person's ladder stage or assessment is kept
//! (who, when, from, to), so organizers see how people move.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::{ladder_changes, people};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::DomainResult;
use crate::outbox::{self, DomainEvent};

/// The field a change is about.
pub const LADDER_STAGE: &str = "ladder_stage";
pub const ASSESSMENT: &str = "assessment";

/// Writes a history row for each of ladder stage and assessment that differs between `before`
/// (`None` for a new person) and `after`.
pub(crate) async fn record_changes<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    before: Option<&people::Model>,
    after: &people::Model,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let (user, key) = scope.actor_ids();
    let old_stage = before.and_then(|p| p.ladder_stage.clone());
    let old_assessment = before.and_then(|p| p.assessment).map(|a| a.to_string());
    let new_assessment = after.assessment.map(|a| a.to_string());
    let mut rows = Vec::new();
    for (field, from, to) in [
        (LADDER_STAGE, old_stage, after.ladder_stage.clone()),
        (ASSESSMENT, old_assessment, new_assessment),
    ] {
        if from == to {
            continue;
        }
        rows.push(ladder_changes::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(scope.org_id()),
            person_id: Set(after.id),
            field: Set(field.to_owned()),
            from_value: Set(from),
            to_value: Set(to),
            actor_user_id: Set(user),
            actor_api_key_id: Set(key),
            changed_at: Set(now),
        });
    }
    if !rows.is_empty() {
        ladder_changes::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    // The same changes as events, so automations see what staff do (plugins' own changes are
    // announced by their effects).
    if before.and_then(|p| p.ladder_stage.as_ref()) != after.ladder_stage.as_ref() {
        let changed = DomainEvent::PersonLadderStageChanged {
            person_id: after.id,
            from: before.and_then(|p| p.ladder_stage.clone()),
            to: after.ladder_stage.clone(),
        };
        outbox::record(conn, scope, changed).await?;
    }
    if before.and_then(|p| p.assessment) != after.assessment {
        let assessed = DomainEvent::PersonAssessed {
            person_id: after.id,
            level: after.assessment.map(i32::from),
            campaign_id: None,
            unit_id: None,
            unit_has_leader: None,
        };
        outbox::record(conn, scope, assessed).await?;
    }
    Ok(())
}

/// The ladder history of each of `person_ids`, oldest first, in one query.
pub async fn history_of(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<ladder_changes::Model>>> {
    let rows = ladder_changes::Entity::find()
        .filter(ladder_changes::Column::OrganizationId.eq(scope.org_id()))
        .filter(ladder_changes::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_asc(ladder_changes::Column::ChangedAt)
        .order_by_asc(ladder_changes::Column::Id)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<ladder_changes::Model>> = HashMap::new();
    for row in rows {
        by_person.entry(row.person_id).or_default().push(row);
    }
    Ok(by_person)
}
