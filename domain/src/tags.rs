//! Writing tags: find-or-create by name and attach to people, both idempotent and safe under
//! concurrent writers (inserts that lose a race do nothing instead of failing).

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use turnout_entity::{taggings, tags};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::DomainResult;

/// The organization's tags named `names`, created where missing.
pub(crate) async fn ensure<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    names: &[String],
) -> DomainResult<Vec<tags::Model>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let new = names.iter().map(|name| tags::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name.clone()),
        created_at: Set(now),
    });
    tags::Entity::insert_many(new)
        .on_conflict_do_nothing_on([tags::Column::OrganizationId, tags::Column::Name])
        .exec_without_returning(conn)
        .await?;
    Ok(tags::Entity::find()
        .filter(tags::Column::OrganizationId.eq(scope.org_id()))
        .filter(tags::Column::Name.is_in(names.iter().cloned()))
        .all(conn)
        .await?)
}

/// Attaches `tag_ids` to a person; tags already attached stay as they are.
pub(crate) async fn attach<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person_id: Uuid,
    tag_ids: impl IntoIterator<Item = Uuid>,
) -> DomainResult<()> {
    let now = Utc::now();
    let rows: Vec<_> = tag_ids
        .into_iter()
        .map(|tag_id| taggings::ActiveModel {
            organization_id: Set(scope.org_id()),
            person_id: Set(person_id),
            tag_id: Set(tag_id),
            created_at: Set(now),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    taggings::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([taggings::Column::PersonId, taggings::Column::TagId])
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
