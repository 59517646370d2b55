//! Tagging people by staff: add or remove tags on one person, or on every person a filter (or
//! saved segment) selects, with one statement per tag rather than a query per person.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use turnout_entity::{people as person_rows, taggings, tags as tag_rows};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::people::{PersonFilter, condition};
use crate::person_write::find_in;
use crate::tags;
use crate::values::required_text;

/// Trimmed, bounded, deduplicated tag names.
pub fn valid_names(field: &str, names: &[String]) -> DomainResult<Vec<String>> {
    if names.is_empty() || names.len() > 50 {
        return Err(DomainError::validation(field, "name 1–50 tags"));
    }
    let mut out: Vec<String> = Vec::new();
    for raw in names {
        let name = required_text(field, Some(raw), 100)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Adds tags (created where missing) to one person.
pub async fn add(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    person_id: Uuid,
    names: &[String],
) -> DomainResult<()> {
    let names = valid_names("tags", names)?;
    let tx = db.begin_write().await?;
    find_in(&tx, scope, person_id).await?;
    // Announce only the tags the person did not have yet.
    let had = names_carried(&tx, scope, person_id, &names).await?;
    tags::attach_by_name(&tx, scope, person_id, &names).await?;
    for tag in names.iter().filter(|n| !had.contains(*n)) {
        let added = DomainEvent::PersonTagAdded {
            person_id,
            tag: tag.clone(),
        };
        outbox::record(&tx, scope, added).await?;
    }
    audit::record(
        &tx,
        scope,
        ctx,
        "person.tag",
        "person",
        Some(person_id),
        &["tags"],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes tags from one person; tags it does not carry are ignored.
pub async fn remove(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    person_id: Uuid,
    names: &[String],
) -> DomainResult<()> {
    let names = valid_names("tags", names)?;
    let tx = db.begin_write().await?;
    find_in(&tx, scope, person_id).await?;
    let had = names_carried(&tx, scope, person_id, &names).await?;
    for tag in &had {
        let removed = DomainEvent::PersonTagRemoved {
            person_id,
            tag: tag.clone(),
        };
        outbox::record(&tx, scope, removed).await?;
    }
    taggings::Entity::delete_many()
        .filter(taggings::Column::PersonId.eq(person_id))
        .filter(taggings::Column::TagId.in_subquery(tag_ids(scope, &names)))
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.untag",
        "person",
        Some(person_id),
        &["tags"],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Which of `names` the person carries now, in one query.
async fn names_carried<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person_id: Uuid,
    names: &[String],
) -> DomainResult<Vec<String>> {
    let carried = tag_rows::Entity::find()
        .filter(tag_rows::Column::OrganizationId.eq(scope.org_id()))
        .filter(tag_rows::Column::Name.is_in(names.to_vec()))
        .filter(
            tag_rows::Column::Id.in_subquery(
                Query::select()
                    .column(taggings::Column::TagId)
                    .from(taggings::Entity)
                    .and_where(Expr::col(taggings::Column::PersonId).eq(person_id))
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    Ok(carried.into_iter().map(|t| t.name).collect())
}

fn tag_ids(scope: &OrgScope, names: &[String]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(tag_rows::Column::Id)
        .from(tag_rows::Entity)
        .and_where(Expr::col(tag_rows::Column::OrganizationId).eq(scope.org_id()))
        .and_where(Expr::col(tag_rows::Column::Name).is_in(names.to_vec()))
        .to_owned()
}

/// Adds tags to every active person `filter` selects. Returns how many taggings were added
/// (people who already carried a tag are not counted for it).
pub async fn add_by_filter(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    filter: &PersonFilter,
    names: &[String],
) -> DomainResult<u64> {
    let names = valid_names("tags", names)?;
    let cond = condition(db, &Can::vouched(scope), filter).await?;
    let tx = db.begin_write().await?;
    let rows = tags::ensure(&tx, scope, &names).await?;
    let now = Utc::now();
    let mut added = 0;
    for tag in rows {
        let select = Query::select()
            .expr(Expr::val(scope.org_id()))
            .column((person_rows::Entity, person_rows::Column::Id))
            .expr(Expr::val(tag.id))
            .expr(Expr::val(now))
            .from(person_rows::Entity)
            .cond_where(cond.clone())
            .to_owned();
        added += tags::insert_taggings_from(&tx, select).await?;
    }
    let bulk = DomainEvent::PeopleTaggedInBulk {
        operation_id: Uuid::now_v7(),
        tags: names.clone(),
        added,
    };
    outbox::record(&tx, scope, bulk).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "people.bulk_tag",
        "person",
        None,
        &["tags"],
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// Removes tags from every active person `filter` selects, in one statement. Returns how many
/// taggings were removed.
pub async fn remove_by_filter(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    filter: &PersonFilter,
    names: &[String],
) -> DomainResult<u64> {
    let names = valid_names("tags", names)?;
    let cond = condition(db, &Can::vouched(scope), filter).await?;
    let selected = Query::select()
        .column((person_rows::Entity, person_rows::Column::Id))
        .from(person_rows::Entity)
        .cond_where(cond)
        .to_owned();
    let tx = db.begin_write().await?;
    let removed = taggings::Entity::delete_many()
        .filter(taggings::Column::OrganizationId.eq(scope.org_id()))
        .filter(taggings::Column::TagId.in_subquery(tag_ids(scope, &names)))
        .filter(taggings::Column::PersonId.in_subquery(selected))
        .exec(&tx)
        .await?
        .rows_affected;
    let bulk = DomainEvent::PeopleUntaggedInBulk {
        operation_id: Uuid::now_v7(),
        tags: names.clone(),
        removed,
    };
    outbox::record(&tx, scope, bulk).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "people.bulk_untag",
        "person",
        None,
        &["tags"],
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}
