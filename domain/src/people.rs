//! Reading people: one person, a filtered page of people, and the tags of many people at once
//! (for the API's DataLoader, so a page costs a constant number of statements).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::{people, taggings, tags};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::values::optional_text;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Filters that compose with AND.
#[derive(Clone, Debug, Default)]
pub struct PersonFilter {
    /// People with at least one of these tags (by name).
    pub tags_any: Vec<String>,
    /// Case-insensitive substring of first name, last name or email.
    pub search: Option<String>,
}

/// A keyset page request: `first` items after the item with id `after`.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn new(first: Option<i32>, after: Option<Uuid>) -> DomainResult<Self> {
        let first = match first {
            None => 20,
            Some(n) if n < 0 => {
                return Err(DomainError::validation("first", "must not be negative"));
            }
            Some(n) if n as u64 > MAX_PAGE_SIZE => {
                return Err(DomainError::validation(
                    "first",
                    format!("must be at most {MAX_PAGE_SIZE}"),
                ));
            }
            Some(n) => n as u64,
        };
        Ok(Self { first, after })
    }
}

#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

/// The people a scope may see: its organization's, and when the scope is limited to chapters,
/// only those chapters' (people in no chapter are outside every chapter).
fn visible(scope: &OrgScope) -> Condition {
    let cond = Condition::all().add(people::Column::OrganizationId.eq(scope.org_id()));
    match scope.chapters() {
        Some(chapters) => cond.add(people::Column::ChapterId.is_in(chapters.iter().copied())),
        None => cond,
    }
}

/// One person of the scope's organization (archived people included).
pub async fn get(db: &Db, scope: &OrgScope, id: Uuid) -> DomainResult<people::Model> {
    people::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("person"))
}

/// A page of the organization's active people in a stable order (by id: UUIDv7, so creation
/// order), keyset-paginated so deep pages cost the same as the first.
pub async fn list(
    db: &Db,
    scope: &OrgScope,
    filter: &PersonFilter,
    page: PageRequest,
) -> DomainResult<Page<people::Model>> {
    let mut cond = visible(scope).add(people::Column::ArchivedAt.is_null());
    if let Some(after) = page.after {
        cond = cond.add(people::Column::Id.gt(after));
    }
    if !filter.tags_any.is_empty() {
        if filter.tags_any.len() > 50 {
            return Err(DomainError::validation(
                "filter.tagsAny",
                "may name at most 50 tags",
            ));
        }
        let tagged = Query::select()
            .column((taggings::Entity, taggings::Column::PersonId))
            .from(taggings::Entity)
            .inner_join(
                tags::Entity,
                Expr::col((tags::Entity, tags::Column::Id))
                    .equals((taggings::Entity, taggings::Column::TagId)),
            )
            .and_where(Expr::col((tags::Entity, tags::Column::OrganizationId)).eq(scope.org_id()))
            .and_where(Expr::col((tags::Entity, tags::Column::Name)).is_in(filter.tags_any.clone()))
            .to_owned();
        cond = cond.add(people::Column::Id.in_subquery(tagged));
    }
    if let Some(search) = optional_text("filter.search", filter.search.as_deref(), 100)? {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let like = |col: people::Column| {
            Expr::expr(Func::lower(Expr::col((people::Entity, col))))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(
            Condition::any()
                .add(like(people::Column::FirstName))
                .add(like(people::Column::LastName))
                .add(like(people::Column::Email)),
        );
    }
    let mut items = people::Entity::find()
        .filter(cond)
        .order_by_asc(people::Column::Id)
        .limit(page.first + 1)
        .all(db.conn())
        .await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page {
        items,
        has_next_page,
    })
}

/// The tags of each of `person_ids` that belong to the scope's organization, in one query.
pub async fn tags_of(
    db: &Db,
    scope: &OrgScope,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<tags::Model>>> {
    let mut query = taggings::Entity::find()
        .find_also_related(tags::Entity)
        .filter(taggings::Column::OrganizationId.eq(scope.org_id()))
        .filter(taggings::Column::PersonId.is_in(person_ids.iter().copied()));
    if let Some(chapters) = scope.chapters() {
        let allowed = Query::select()
            .column((people::Entity, people::Column::Id))
            .from(people::Entity)
            .and_where(
                Expr::col((people::Entity, people::Column::OrganizationId)).eq(scope.org_id()),
            )
            .and_where(
                Expr::col((people::Entity, people::Column::ChapterId))
                    .is_in(chapters.iter().copied()),
            )
            .to_owned();
        query = query.filter(taggings::Column::PersonId.in_subquery(allowed));
    }
    let rows: Vec<(taggings::Model, Option<tags::Model>)> = query
        .order_by_asc(tags::Column::Name)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<tags::Model>> = HashMap::new();
    for (tagging, tag) in rows {
        if let Some(tag) = tag {
            by_person.entry(tagging.person_id).or_default().push(tag);
        }
    }
    Ok(by_person)
}

/// One tag of the scope's organization.
pub async fn get_tag(db: &Db, scope: &OrgScope, id: Uuid) -> DomainResult<tags::Model> {
    tags::Entity::find_by_id(id)
        .filter(tags::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("tag"))
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().first, 20);
        assert!(PageRequest::new(Some(-1), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert_eq!(PageRequest::new(Some(100), None).unwrap().first, 100);
    }
}
