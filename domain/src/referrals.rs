//! Referrals: every person has a referral code; people who arrive through it (a sign-up or a
//! public RSVP) are credited to them (`people.referred_by_person_id`).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::people;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::DomainResult;
use crate::people::{Page, PageRequest};

fn visible(scope: &OrgScope) -> Condition {
    let cond = Condition::all().add(people::Column::OrganizationId.eq(scope.org_id()));
    match scope.chapters() {
        Some(chapters) => cond.add(people::Column::ChapterId.is_in(chapters.iter().copied())),
        None => cond,
    }
}

/// A page of the people `referrer_id` referred, oldest first.
pub async fn list(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    referrer_id: Uuid,
    page: PageRequest,
) -> DomainResult<Page<people::Model>> {
    let mut cond = visible(scope).add(people::Column::ReferredByPersonId.eq(referrer_id));
    if let Some(after) = page.after {
        cond = cond.add(people::Column::Id.gt(after));
    }
    let items = people::Entity::find()
        .filter(cond)
        .order_by_asc(people::Column::Id)
        .limit(page.first + 1)
        .all(db.conn())
        .await?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many people each of `referrer_ids` referred, in one query.
pub async fn counts(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    referrer_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, u64>> {
    let rows: Vec<(Option<Uuid>, i64)> = people::Entity::find()
        .select_only()
        .column(people::Column::ReferredByPersonId)
        .column_as(Expr::col(people::Column::Id).count(), "n")
        .filter(visible(scope))
        .filter(people::Column::ReferredByPersonId.is_in(referrer_ids.iter().copied()))
        .group_by(people::Column::ReferredByPersonId)
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, u64::try_from(n).unwrap_or(0))))
        .collect())
}
