//! Saved segments: a named, stored people filter, usable wherever a filter is (the people list,
//! bulk tagging, the CSV export).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::segments;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::Actor;
use crate::auth::{Can, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::people::{self, PersonFilter};
use crate::values::required_text;

/// A segment with its filter parsed.
#[derive(Clone, Debug)]
pub struct Segment {
    pub row: segments::Model,
    pub filter: PersonFilter,
}

impl Segment {
    fn from_row(row: segments::Model) -> DomainResult<Self> {
        let filter = serde_json::from_value(row.filter.clone()).map_err(|e| {
            DomainError::internal(format!("segment {} has a bad filter: {e}", row.id))
        })?;
        Ok(Self { row, filter })
    }
}

/// One segment of the scope's organization.
pub async fn get(db: &Db, scope: &Can<perm::PeopleRead>, id: Uuid) -> DomainResult<Segment> {
    let row = segments::Entity::find_by_id(id)
        .filter(segments::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("segment"))?;
    Segment::from_row(row)
}

/// The organization's segments, by name.
pub async fn list(db: &Db, scope: &Can<perm::PeopleRead>) -> DomainResult<Vec<Segment>> {
    segments::Entity::find()
        .filter(segments::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(segments::Column::Name)
        .all(db.conn())
        .await?
        .into_iter()
        .map(Segment::from_row)
        .collect()
}

/// Saves `filter` as a segment named `name` (unique in the organization: a taken name is a
/// `CONFLICT`). The filter is checked as the people list would check it.
pub async fn create(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    name: &str,
    filter: PersonFilter,
) -> DomainResult<Segment> {
    let name = required_text("name", Some(name), 100)?;
    if filter.segment_id.is_some() {
        return Err(DomainError::validation(
            "filter.segmentId",
            "a segment cannot include another segment",
        ));
    }
    // Validates sizes and ranges exactly as a query would.
    people::condition(db, &Can::vouched(scope), &filter).await?;
    let value = serde_json::to_value(&filter).map_err(DomainError::internal)?;
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let id = Uuid::now_v7();
    let row = segments::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        name: Set(name),
        filter: Set(value),
        created_by_user_id: Set(match scope.actor() {
            Some(Actor::User(id)) => Some(id),
            _ => None,
        }),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(|e| taken_if_unique(e, "name", "a segment with this name already exists"))?;
    audit::record(
        &tx,
        scope,
        ctx,
        "segment.create",
        "segment",
        Some(id),
        &["name", "filter"],
    )
    .await?;
    tx.commit().await?;
    Ok(Segment { row, filter })
}

/// Deletes a segment.
pub async fn delete(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<()> {
    let tx = db.begin_write().await?;
    let res = segments::Entity::delete_many()
        .filter(segments::Column::Id.eq(id))
        .filter(segments::Column::OrganizationId.eq(scope.org_id()))
        .exec(&tx)
        .await?;
    if res.rows_affected == 0 {
        return Err(DomainError::not_found("segment"));
    }
    audit::record(&tx, scope, ctx, "segment.delete", "segment", Some(id), &[]).await?;
    tx.commit().await?;
    Ok(())
}
