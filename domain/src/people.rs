//! Reading people: one person, a filtered page of people, and the tags of many people at once
//! (for the API's DataLoader, so a page costs a constant number of statements).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use turnout_entity::{people, taggings, tags};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::values::optional_text;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Filters that compose with AND. Stored as JSON in saved segments, so fields only grow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PersonFilter {
    /// People with at least one of these tags (by name).
    pub tags_any: Vec<String>,
    /// People with every one of these tags.
    pub tags_all: Vec<String>,
    /// People with none of these tags.
    pub tags_none: Vec<String>,
    /// People at one of these ladder stages.
    pub ladder_stages: Vec<String>,
    /// Assessment at least this (1–5).
    pub assessment_min: Option<i16>,
    /// Assessment at most this (1–5).
    pub assessment_max: Option<i16>,
    /// People in one of these chapters.
    pub chapter_ids: Vec<Uuid>,
    /// People with one of these postal codes.
    pub zips: Vec<String>,
    /// People whose preferred language is one of these (`es` also matches `es-MX`).
    pub languages: Vec<String>,
    pub sms_consent: Option<bool>,
    pub email_consent: Option<bool>,
    pub whatsapp_consent: Option<bool>,
    /// Created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Case-insensitive substring of first name, last name or email.
    pub search: Option<String>,
    /// People referred by this person.
    pub referred_by: Option<Uuid>,
    /// Also the conditions of this saved segment.
    pub segment_id: Option<Uuid>,
    /// People with a current job at one of these worksites (needs `organizing:read`, as do
    /// the organizing criteria below).
    pub worksite_ids: Vec<Uuid>,
    /// People with a current job in one of these units (the units named, not those within).
    pub unit_ids: Vec<Uuid>,
    /// People by their standing in an organizing campaign.
    pub campaign: Option<CampaignCriteria>,
    /// People someone is the social leader or organizer of (`true`), or nobody is (`false`).
    pub has_leader: Option<bool>,
    /// People with a relationship, either way, to this person.
    pub connections_of: Option<Uuid>,
}

/// Criteria on people's standing in one organizing campaign; they compose with AND.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignCriteria {
    pub campaign_id: Uuid,
    /// Currently assessed at one of these levels (1–5).
    pub levels: Vec<i16>,
    /// Signed a card (`true`) or not (`false`).
    pub signed: Option<bool>,
    /// A leader in the campaign (`true`) or not.
    pub leader: Option<bool>,
}

impl PersonFilter {
    /// Whether the filter reads organizing data (and so needs `organizing:read`).
    pub fn uses_organizing(&self) -> bool {
        !self.worksite_ids.is_empty()
            || !self.unit_ids.is_empty()
            || self.campaign.is_some()
            || self.has_leader.is_some()
            || self.connections_of.is_some()
    }
}

/// The orders a list of people can come in. Every order ends with the id, so it is total and
/// keyset cursors never skip or repeat a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PersonSort {
    #[default]
    CreatedAsc,
    CreatedDesc,
    LastNameAsc,
    LastNameDesc,
}

/// Where a page starts: the sort key and id of the last person of the previous page. A cursor
/// belongs to one sort; it is refused with another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonCursor {
    Created(DateTime<Utc>, Uuid),
    LastName(String, Uuid),
}

impl PersonSort {
    /// The cursor of `person` in this order.
    pub fn cursor_of(self, person: &people::Model) -> PersonCursor {
        match self {
            PersonSort::CreatedAsc | PersonSort::CreatedDesc => {
                PersonCursor::Created(person.created_at, person.id)
            }
            PersonSort::LastNameAsc | PersonSort::LastNameDesc => {
                PersonCursor::LastName(person.last_name.clone().unwrap_or_default(), person.id)
            }
        }
    }
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

impl<T> Page<T> {
    /// The page from rows read with one more than asked (`limit(first + 1)`): the extra row,
    /// dropped, says another page follows.
    pub fn from_overfetch(mut items: Vec<T>, first: u64) -> Self {
        let has_next_page = items.len() as u64 > first;
        items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Self {
            items,
            has_next_page,
        }
    }
}

/// The people a scope may see: its organization's, and when the scope is limited to chapters,
/// only those chapters' (people in no chapter are outside every chapter).
pub(crate) fn visible(scope: &OrgScope) -> Condition {
    let cond = Condition::all().add(people::Column::OrganizationId.eq(scope.org_id()));
    match scope.chapters() {
        Some(chapters) => cond.add(people::Column::ChapterId.is_in(chapters.iter().copied())),
        None => cond,
    }
}

/// One person of the scope's organization (archived people included).
pub async fn get(db: &Db, scope: &Can<perm::PeopleRead>, id: Uuid) -> DomainResult<people::Model> {
    people::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("person"))
}

const MAX_LIST: usize = 50;

fn bounded<'a>(field: &str, values: &'a [String]) -> DomainResult<&'a [String]> {
    if values.len() > MAX_LIST {
        return Err(DomainError::validation(
            field,
            format!("may name at most {MAX_LIST} values"),
        ));
    }
    Ok(values)
}

/// `SELECT person_id FROM taggings JOIN tags … WHERE tags.name IN (names)` in the organization.
fn tagged_with(scope: &OrgScope, names: &[String]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column((taggings::Entity, taggings::Column::PersonId))
        .from(taggings::Entity)
        .inner_join(
            tags::Entity,
            Expr::col((tags::Entity, tags::Column::Id))
                .equals((taggings::Entity, taggings::Column::TagId)),
        )
        .and_where(Expr::col((tags::Entity, tags::Column::OrganizationId)).eq(scope.org_id()))
        .and_where(Expr::col((tags::Entity, tags::Column::Name)).is_in(names.to_vec()))
        .to_owned()
}

/// The conditions of one filter (not its segment), checked for size.
fn filter_condition(scope: &OrgScope, filter: &PersonFilter) -> DomainResult<Condition> {
    let mut cond = Condition::all();
    let tags_any = bounded("filter.tagsAny", &filter.tags_any)?;
    if !tags_any.is_empty() {
        cond = cond.add(people::Column::Id.in_subquery(tagged_with(scope, tags_any)));
    }
    for name in bounded("filter.tagsAll", &filter.tags_all)? {
        cond = cond
            .add(people::Column::Id.in_subquery(tagged_with(scope, std::slice::from_ref(name))));
    }
    let tags_none = bounded("filter.tagsNone", &filter.tags_none)?;
    if !tags_none.is_empty() {
        cond = cond.add(people::Column::Id.not_in_subquery(tagged_with(scope, tags_none)));
    }
    let stages = bounded("filter.ladderStages", &filter.ladder_stages)?;
    if !stages.is_empty() {
        cond = cond.add(people::Column::LadderStage.is_in(stages.iter().cloned()));
    }
    for (field, value) in [
        ("filter.assessmentMin", filter.assessment_min),
        ("filter.assessmentMax", filter.assessment_max),
    ] {
        if value.is_some_and(|v| !(1..=5).contains(&v)) {
            return Err(DomainError::validation(field, "must be between 1 and 5"));
        }
    }
    if let Some(min) = filter.assessment_min {
        cond = cond.add(people::Column::Assessment.gte(min));
    }
    if let Some(max) = filter.assessment_max {
        cond = cond.add(people::Column::Assessment.lte(max));
    }
    if filter.chapter_ids.len() > MAX_LIST {
        return Err(DomainError::validation(
            "filter.chapterIds",
            format!("may name at most {MAX_LIST} values"),
        ));
    }
    if !filter.chapter_ids.is_empty() {
        cond = cond.add(people::Column::ChapterId.is_in(filter.chapter_ids.iter().copied()));
    }
    let zips = bounded("filter.zips", &filter.zips)?;
    if !zips.is_empty() {
        cond = cond.add(people::Column::Zip.is_in(zips.iter().map(|z| z.trim().to_owned())));
    }
    let languages = bounded("filter.languages", &filter.languages)?;
    if !languages.is_empty() {
        let mut any = Condition::any();
        for lang in languages {
            let lang = lang.trim();
            any = any
                .add(
                    Expr::expr(Func::lower(Expr::col((
                        people::Entity,
                        people::Column::PreferredLanguage,
                    ))))
                    .eq(lang.to_lowercase()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col((
                        people::Entity,
                        people::Column::PreferredLanguage,
                    ))))
                    .like(
                        LikeExpr::new(format!("{}-%", escape_like(&lang.to_lowercase())))
                            .escape('\\'),
                    ),
                );
        }
        cond = cond.add(any);
    }
    for (col, value) in [
        (people::Column::SmsConsent, filter.sms_consent),
        (people::Column::EmailConsent, filter.email_consent),
        (people::Column::WhatsappConsent, filter.whatsapp_consent),
    ] {
        if let Some(v) = value {
            cond = cond.add(col.eq(v));
        }
    }
    if let Some(at) = filter.created_after {
        cond = cond.add(people::Column::CreatedAt.gte(at));
    }
    if let Some(at) = filter.created_before {
        cond = cond.add(people::Column::CreatedAt.lt(at));
    }
    if let Some(id) = filter.referred_by {
        cond = cond.add(people::Column::ReferredByPersonId.eq(id));
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
    organizing_condition(scope, filter, cond)
}

/// The organizing criteria of a filter, as subqueries on employment, standings and
/// relationships.
fn organizing_condition(
    scope: &OrgScope,
    filter: &PersonFilter,
    mut cond: Condition,
) -> DomainResult<Condition> {
    use turnout_entity::{campaign_people, employments, relationships};
    let employed = |col: employments::Column, ids: &[Uuid]| {
        Query::select()
            .column(employments::Column::PersonId)
            .from(employments::Entity)
            .and_where(employments::Column::OrganizationId.eq(scope.org_id()))
            .and_where(employments::Column::EndedOn.is_null())
            .and_where(col.is_in(ids.iter().copied()))
            .to_owned()
    };
    for (field, ids, col) in [
        (
            "filter.worksiteIds",
            &filter.worksite_ids,
            employments::Column::WorksiteId,
        ),
        (
            "filter.unitIds",
            &filter.unit_ids,
            employments::Column::UnitId,
        ),
    ] {
        if ids.len() > MAX_LIST {
            return Err(DomainError::validation(
                field,
                format!("may name at most {MAX_LIST} values"),
            ));
        }
        if !ids.is_empty() {
            cond = cond.add(people::Column::Id.in_subquery(employed(col, ids)));
        }
    }
    if let Some(c) = &filter.campaign {
        if c.levels.iter().any(|l| !(1..=5).contains(l)) {
            return Err(DomainError::validation(
                "filter.campaign.levels",
                "must be between 1 and 5",
            ));
        }
        let mut standing = Query::select();
        standing
            .column(campaign_people::Column::PersonId)
            .from(campaign_people::Entity)
            .and_where(campaign_people::Column::OrganizationId.eq(scope.org_id()))
            .and_where(campaign_people::Column::CampaignId.eq(c.campaign_id));
        let mut any = false;
        if !c.levels.is_empty() {
            standing.and_where(campaign_people::Column::Level.is_in(c.levels.iter().copied()));
            any = true;
        }
        if c.signed == Some(true) {
            standing.and_where(campaign_people::Column::CardSignedOn.is_not_null());
            any = true;
        }
        if c.leader == Some(true) {
            standing.and_where(campaign_people::Column::Leader.eq(true));
            any = true;
        }
        if any {
            cond = cond.add(people::Column::Id.in_subquery(standing.to_owned()));
        }
        // "Not signed" and "not a leader" include workers with no standing row at all.
        for (wanted, col, value) in [
            (c.signed, campaign_people::Column::CardSignedOn, None),
            (c.leader, campaign_people::Column::Leader, Some(true)),
        ] {
            if wanted == Some(false) {
                let mut has = Query::select();
                has.column(campaign_people::Column::PersonId)
                    .from(campaign_people::Entity)
                    .and_where(campaign_people::Column::OrganizationId.eq(scope.org_id()))
                    .and_where(campaign_people::Column::CampaignId.eq(c.campaign_id));
                match value {
                    Some(v) => has.and_where(col.eq(v)),
                    None => has.and_where(col.is_not_null()),
                };
                cond = cond.add(people::Column::Id.not_in_subquery(has.to_owned()));
            }
        }
    }
    if let Some(wanted) = filter.has_leader {
        let led = Query::select()
            .column(relationships::Column::ToPersonId)
            .from(relationships::Entity)
            .and_where(relationships::Column::OrganizationId.eq(scope.org_id()))
            .and_where(relationships::Column::Kind.is_in(["social_leader_of", "organizer_of"]))
            .to_owned();
        cond = cond.add(if wanted {
            people::Column::Id.in_subquery(led)
        } else {
            people::Column::Id.not_in_subquery(led)
        });
    }
    if let Some(of) = filter.connections_of {
        let side = |mine: relationships::Column, theirs: relationships::Column| {
            Query::select()
                .column(theirs)
                .from(relationships::Entity)
                .and_where(relationships::Column::OrganizationId.eq(scope.org_id()))
                .and_where(mine.eq(of))
                .to_owned()
        };
        cond = cond.add(
            Condition::any()
                .add(people::Column::Id.in_subquery(side(
                    relationships::Column::FromPersonId,
                    relationships::Column::ToPersonId,
                )))
                .add(people::Column::Id.in_subquery(side(
                    relationships::Column::ToPersonId,
                    relationships::Column::FromPersonId,
                ))),
        );
    }
    Ok(cond)
}

/// The condition selecting the active people a scope may see that match `filter` (and its
/// saved segment, if it names one; another organization's segment is `NOT_FOUND`).
pub async fn condition(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    filter: &PersonFilter,
) -> DomainResult<Condition> {
    let may_read_organizing = || {
        if scope.holds(crate::auth::Scope::OrganizingRead) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "filtering by workplace, campaign or relationships needs the `organizing:read` \
                 scope"
                    .into(),
            ))
        }
    };
    if filter.uses_organizing() {
        may_read_organizing()?;
    }
    let mut cond = visible(scope)
        .add(people::Column::ArchivedAt.is_null())
        .add(filter_condition(scope, filter)?);
    if let Some(segment_id) = filter.segment_id {
        let segment = crate::segments::get(db, scope, segment_id).await?;
        if segment.filter.uses_organizing() {
            may_read_organizing()?;
        }
        // A stored filter never names a segment itself (refused when saved).
        cond = cond.add(filter_condition(scope, &segment.filter)?);
    }
    Ok(cond)
}

/// How many active people match `filter`.
pub async fn count(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    filter: &PersonFilter,
) -> DomainResult<u64> {
    let cond = condition(db, scope, filter).await?;
    Ok(people::Entity::find().filter(cond).count(db.conn()).await?)
}

/// A page of people in `sort` order after `after` (a cursor of the same sort).
pub async fn list(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    filter: &PersonFilter,
    sort: PersonSort,
    first: u64,
    after: Option<&PersonCursor>,
) -> DomainResult<Page<people::Model>> {
    let mut cond = condition(db, scope, filter).await?;
    let last_name = || {
        Expr::expr(Func::coalesce([
            Expr::col((people::Entity, people::Column::LastName)),
            Expr::val(""),
        ]))
    };
    let id = || Expr::col((people::Entity, people::Column::Id));
    let created = || Expr::col((people::Entity, people::Column::CreatedAt));
    if let Some(after) = after {
        let keyset = match (sort, after) {
            (PersonSort::CreatedAsc, PersonCursor::Created(at, after_id)) => {
                Condition::any().add(created().gt(*at)).add(
                    Condition::all()
                        .add(created().eq(*at))
                        .add(id().gt(*after_id)),
                )
            }
            (PersonSort::CreatedDesc, PersonCursor::Created(at, after_id)) => {
                Condition::any().add(created().lt(*at)).add(
                    Condition::all()
                        .add(created().eq(*at))
                        .add(id().lt(*after_id)),
                )
            }
            (PersonSort::LastNameAsc, PersonCursor::LastName(name, after_id)) => {
                Condition::any().add(last_name().gt(name.clone())).add(
                    Condition::all()
                        .add(last_name().eq(name.clone()))
                        .add(id().gt(*after_id)),
                )
            }
            (PersonSort::LastNameDesc, PersonCursor::LastName(name, after_id)) => {
                Condition::any().add(last_name().lt(name.clone())).add(
                    Condition::all()
                        .add(last_name().eq(name.clone()))
                        .add(id().lt(*after_id)),
                )
            }
            _ => {
                return Err(DomainError::validation(
                    "after",
                    "is a cursor of another sort order",
                ));
            }
        };
        cond = cond.add(keyset);
    }
    let mut query = people::Entity::find().filter(cond);
    query = match sort {
        PersonSort::CreatedAsc => query
            .order_by(people::Column::CreatedAt, Order::Asc)
            .order_by(people::Column::Id, Order::Asc),
        PersonSort::CreatedDesc => query
            .order_by(people::Column::CreatedAt, Order::Desc)
            .order_by(people::Column::Id, Order::Desc),
        PersonSort::LastNameAsc => query
            .order_by(last_name(), Order::Asc)
            .order_by(people::Column::Id, Order::Asc),
        PersonSort::LastNameDesc => query
            .order_by(last_name(), Order::Desc)
            .order_by(people::Column::Id, Order::Desc),
    };
    let mut items = query.limit(first + 1).all(db.conn()).await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next_page,
    })
}

/// The tags of each of `person_ids` that belong to the scope's organization, in one query.
pub async fn tags_of(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
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
pub async fn get_tag(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    id: Uuid,
) -> DomainResult<tags::Model> {
    tags::Entity::find_by_id(id)
        .filter(tags::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("tag"))
}

pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How a person is named to staff (a reminder, a digest): their name, or else how to reach
/// them.
pub(crate) fn display_name(p: &people::Model) -> String {
    let name = [p.first_name.as_deref(), p.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        p.email
            .clone()
            .or_else(|| p.phone.clone())
            .unwrap_or_default()
    } else {
        name
    }
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
