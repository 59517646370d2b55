//! Writing tags: find-or-create by name and attach to people, both idempotent and safe under
//! concurrent writers (inserts that lose a race do nothing instead of failing).

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use turnout_entity::{taggings, tags};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::{DomainError, DomainResult};

/// Creates the tags named `names` where missing, without reading them back.
async fn create_missing<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    names: &[String],
) -> DomainResult<()> {
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
    Ok(())
}

/// Attaches the tags named `names` to a person, creating missing tags: two statements
/// whatever the number of tags (the taggings are inserted from a select of the tags by name).
/// Tags already attached stay as they are. Returns how many taggings were new.
pub(crate) async fn attach_by_name<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person_id: Uuid,
    names: &[String],
) -> DomainResult<u64> {
    if names.is_empty() {
        return Ok(0);
    }
    create_missing(conn, scope, names).await?;
    let select = Query::select()
        .expr(Expr::val(scope.org_id()))
        .expr(Expr::val(person_id))
        .column(tags::Column::Id)
        .expr(Expr::val(Utc::now()))
        .from(tags::Entity)
        .and_where(Expr::col(tags::Column::OrganizationId).eq(scope.org_id()))
        .and_where(Expr::col(tags::Column::Name).is_in(names.iter().cloned()))
        .to_owned();
    insert_taggings_from(conn, select).await
}

/// Inserts the taggings `select` yields, as rows of (organization id, person id, tag id,
/// created at); pairs already tagged are skipped. Returns how many were new.
pub(crate) async fn insert_taggings_from<C: ConnectionTrait>(
    conn: &C,
    select: SelectStatement,
) -> DomainResult<u64> {
    let insert = Query::insert()
        .into_table(taggings::Entity)
        .columns([
            taggings::Column::OrganizationId,
            taggings::Column::PersonId,
            taggings::Column::TagId,
            taggings::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(|e| DomainError::internal(format!("tagging statement: {e}")))?
        .on_conflict(
            OnConflict::columns([taggings::Column::PersonId, taggings::Column::TagId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(conn.execute(&insert).await?.rows_affected())
}

/// The organization's tags named `names`, created where missing.
pub(crate) async fn ensure<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    names: &[String],
) -> DomainResult<Vec<tags::Model>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    create_missing(conn, scope, names).await?;
    Ok(tags::Entity::find()
        .filter(tags::Column::OrganizationId.eq(scope.org_id()))
        .filter(tags::Column::Name.is_in(names.iter().cloned()))
        .all(conn)
        .await?)
}
