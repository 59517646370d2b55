//! What automation plugins may read, always within one organization: people (with tags and
//! custom fields), attendance from RSVPs, upcoming shifts, small people searches, the plugin's
//! key-value space. The plugin host's database read model calls these.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::{
    custom_field_values, custom_fields, events, people, plugin_kv, rsvps, shifts, taggings, tags,
};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;

/// Most results a search or listing returns.
pub const MAX_RESULTS: u64 = 25;

/// A person as plugins see them.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonView {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub ladder_stage: Option<String>,
    pub assessment: Option<u8>,
    pub point_person_id: Option<Uuid>,
    pub referred_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A search; all given criteria must match.
#[derive(Clone, Debug, Default)]
pub struct PeopleSearch {
    pub tag: Option<String>,
    pub ladder_stage: Option<String>,
    pub referred_by: Option<Uuid>,
    pub name_contains: Option<String>,
}

async fn views(
    db: &Db,
    scope: &OrgScope,
    rows: Vec<people::Model>,
) -> DomainResult<Vec<PersonView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|p| p.id).collect();
    let mut tag_map: HashMap<Uuid, Vec<String>> = HashMap::new();
    let tagged: Vec<(Uuid, String)> = taggings::Entity::find()
        .select_only()
        .column(taggings::Column::PersonId)
        .column(tags::Column::Name)
        .inner_join(tags::Entity)
        .filter(taggings::Column::OrganizationId.eq(scope.org_id()))
        .filter(taggings::Column::PersonId.is_in(ids.clone()))
        .order_by_asc(tags::Column::Name)
        .into_tuple()
        .all(db.conn())
        .await?;
    for (p, t) in tagged {
        tag_map.entry(p).or_default().push(t);
    }
    let mut field_map: HashMap<Uuid, BTreeMap<String, String>> = HashMap::new();
    let values: Vec<(Uuid, String, serde_json::Value)> = custom_field_values::Entity::find()
        .select_only()
        .column(custom_field_values::Column::PersonId)
        .column(custom_fields::Column::Key)
        .column(custom_field_values::Column::Value)
        .inner_join(custom_fields::Entity)
        .filter(custom_field_values::Column::OrganizationId.eq(scope.org_id()))
        .filter(custom_field_values::Column::PersonId.is_in(ids))
        .into_tuple()
        .all(db.conn())
        .await?;
    for (p, k, v) in values {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        field_map.entry(p).or_default().insert(k, text);
    }
    Ok(rows
        .into_iter()
        .map(|p| PersonView {
            tags: tag_map.remove(&p.id).unwrap_or_default(),
            custom_fields: field_map.remove(&p.id).unwrap_or_default(),
            id: p.id,
            first_name: p.first_name.unwrap_or_default(),
            last_name: p.last_name.unwrap_or_default(),
            email: p.email,
            phone: p.phone,
            language: p.preferred_language.unwrap_or_else(|| "en".into()),
            ladder_stage: p.ladder_stage,
            assessment: p.assessment.and_then(|a| u8::try_from(a).ok()),
            point_person_id: p.point_person_user_id,
            referred_by: p.referred_by_person_id,
            created_at: p.created_at,
        })
        .collect())
}

/// A person of the organization, or `None` (also for another organization's person).
pub async fn person(db: &Db, scope: &OrgScope, id: Uuid) -> DomainResult<Option<PersonView>> {
    let row = people::Entity::find_by_id(id)
        .filter(people::Column::OrganizationId.eq(scope.org_id()))
        .filter(people::Column::ArchivedAt.is_null())
        .one(db.conn())
        .await?;
    Ok(views(db, scope, row.into_iter().collect())
        .await?
        .into_iter()
        .next())
}

/// People of the organization matching `search`, at most `limit` (≤ 25), by id.
pub async fn search_people(
    db: &Db,
    scope: &OrgScope,
    search: &PeopleSearch,
    limit: u64,
) -> DomainResult<Vec<PersonView>> {
    let mut q = people::Entity::find()
        .filter(people::Column::OrganizationId.eq(scope.org_id()))
        .filter(people::Column::ArchivedAt.is_null());
    if let Some(stage) = &search.ladder_stage {
        q = q.filter(people::Column::LadderStage.eq(stage.as_str()));
    }
    if let Some(r) = search.referred_by {
        q = q.filter(people::Column::ReferredByPersonId.eq(r));
    }
    if let Some(name) = search.name_contains.as_deref().filter(|n| !n.is_empty()) {
        let pattern = format!("%{}%", name.to_lowercase().replace(['%', '_', '\\'], ""));
        q = q.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(people::Column::FirstName)))
                        .like(pattern.clone()),
                )
                .add(Expr::expr(Func::lower(Expr::col(people::Column::LastName))).like(pattern)),
        );
    }
    if let Some(tag) = &search.tag {
        let Some(tag_row) = tags::Entity::find()
            .filter(tags::Column::OrganizationId.eq(scope.org_id()))
            .filter(tags::Column::Name.eq(tag.as_str()))
            .one(db.conn())
            .await?
        else {
            return Ok(Vec::new());
        };
        q = q
            .inner_join(taggings::Entity)
            .filter(taggings::Column::TagId.eq(tag_row.id));
    }
    let rows = q
        .order_by_asc(people::Column::Id)
        .limit(Ord::min(limit, MAX_RESULTS))
        .all(db.conn())
        .await?;
    views(db, scope, rows).await
}

/// A person's attendance counts from RSVPs: attended (checked in or marked attended) and
/// missed (marked no-show), all time and within `[from, to)` by shift start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attendance {
    pub attended_total: u32,
    pub missed_total: u32,
    pub attended_in_window: u32,
    pub missed_in_window: u32,
    pub last_attended_at: Option<DateTime<Utc>>,
}

pub async fn attendance(
    db: &Db,
    scope: &OrgScope,
    person_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Attendance> {
    let rows: Vec<(String, Option<DateTime<Utc>>, DateTime<Utc>)> = rsvps::Entity::find()
        .select_only()
        .column(rsvps::Column::Status)
        .column(rsvps::Column::CheckedInAt)
        .column(shifts::Column::StartsAt)
        .inner_join(shifts::Entity)
        .filter(rsvps::Column::OrganizationId.eq(scope.org_id()))
        .filter(rsvps::Column::PersonId.eq(person_id))
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut a = Attendance::default();
    for (status, checked_in, starts_at) in rows {
        let in_window = from <= starts_at && starts_at < to;
        if checked_in.is_some() || status == "attended" || status == "checked_in" {
            a.attended_total += 1;
            a.attended_in_window += u32::from(in_window);
            a.last_attended_at = Ord::max(a.last_attended_at, Some(starts_at));
        } else if status == "no_show" || status == "missed" {
            a.missed_total += 1;
            a.missed_in_window += u32::from(in_window);
        }
    }
    Ok(a)
}

/// A shift as plugins see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: Option<String>,
    pub capacity: Option<u32>,
    pub rsvp_count: u32,
}

/// Shifts of the organization starting at or after `after` (not cancelled), soonest first.
pub async fn upcoming_shifts(
    db: &Db,
    scope: &OrgScope,
    after: DateTime<Utc>,
    limit: u64,
) -> DomainResult<Vec<ShiftView>> {
    let rows: Vec<(shifts::Model, Option<events::Model>)> = shifts::Entity::find()
        .find_also_related(events::Entity)
        .filter(shifts::Column::OrganizationId.eq(scope.org_id()))
        .filter(shifts::Column::StartsAt.gte(after))
        .filter(shifts::Column::CancelledAt.is_null())
        .order_by_asc(shifts::Column::StartsAt)
        .order_by_asc(shifts::Column::Id)
        .limit(Ord::min(limit, MAX_RESULTS))
        .all(db.conn())
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|(s, _)| s.id).collect();
    let taken: Vec<Uuid> = rsvps::Entity::find()
        .select_only()
        .column(rsvps::Column::ShiftId)
        .filter(rsvps::Column::ShiftId.is_in(ids))
        .filter(rsvps::Column::Status.is_not_in(["cancelled", "declined"]))
        .into_tuple()
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(s, e)| ShiftView {
            rsvp_count: taken.iter().filter(|t| **t == s.id).count() as u32,
            id: s.id,
            event_id: s.event_id,
            title: e.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
            location: e.and_then(|e| e.location),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            capacity: s.capacity.and_then(|c| u32::try_from(c).ok()),
        })
        .collect())
}

/// A value of a plugin's key-value space.
pub async fn kv_get(
    db: &Db,
    scope: &OrgScope,
    namespace: &str,
    key: &str,
) -> DomainResult<Option<String>> {
    Ok(plugin_kv::Entity::find()
        .filter(plugin_kv::Column::OrganizationId.eq(scope.org_id()))
        .filter(plugin_kv::Column::Namespace.eq(namespace))
        .filter(plugin_kv::Column::Key.eq(key))
        .one(db.conn())
        .await?
        .map(|r| r.value))
}
