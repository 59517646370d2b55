//! The read model over the CRM's database: what plugins may read, answered by the domain's
//! organization-scoped queries. One instance serves one run (or dry run) in one organization;
//! a query naming another organization gets nothing, whatever the plugin asks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use turnout_domain::auth::OrgScope;
use turnout_domain::automations::read::{self, PeopleSearch, PersonView, ShiftView};
use turnout_domain::db::Db;
use uuid::Uuid;

use crate::read_model::{ReadModel, ReadModelError};
use crate::types::{AttendanceSummary, OrgId, PeopleQuery, Person, Shift, TimeWindow};

/// A [`ReadModel`] reading the database within one organization.
#[derive(Clone, Debug)]
pub struct DbReadModel {
    db: Db,
    scope: OrgScope,
}

impl DbReadModel {
    /// Reads within `scope`'s organization only.
    pub fn new(db: Db, scope: OrgScope) -> Self {
        DbReadModel { db, scope }
    }

    fn ours(&self, org: OrgId) -> bool {
        org == self.scope.org_id()
    }
}

fn unavailable(e: turnout_domain::DomainError) -> ReadModelError {
    tracing::warn!(error = %e, "plugin read model query failed");
    ReadModelError("the CRM could not answer".into())
}

fn person(p: PersonView) -> Person {
    Person {
        id: p.id,
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        phone: p.phone,
        language: p.language,
        tags: p.tags,
        custom_fields: p.custom_fields,
        ladder_stage: p.ladder_stage,
        assessment: p.assessment,
        point_person_id: p.point_person_id,
        referred_by: p.referred_by,
        created_at: p.created_at,
    }
}

fn shift(s: ShiftView) -> Shift {
    Shift {
        id: s.id,
        event_id: s.event_id,
        title: s.title,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        location: s.location,
        capacity: s.capacity,
        rsvp_count: s.rsvp_count,
    }
}

#[async_trait]
impl ReadModel for DbReadModel {
    async fn person(&self, org: OrgId, id: Uuid) -> Result<Option<Person>, ReadModelError> {
        if !self.ours(org) {
            return Ok(None);
        }
        Ok(read::person(&self.db, &self.scope, id)
            .await
            .map_err(unavailable)?
            .map(person))
    }

    async fn attendance(
        &self,
        org: OrgId,
        person_id: Uuid,
        window: TimeWindow,
    ) -> Result<AttendanceSummary, ReadModelError> {
        if !self.ours(org) {
            return Ok(AttendanceSummary::default());
        }
        let a = read::attendance(&self.db, &self.scope, person_id, window.from, window.to)
            .await
            .map_err(unavailable)?;
        Ok(AttendanceSummary {
            attended_total: a.attended_total,
            missed_total: a.missed_total,
            attended_in_window: a.attended_in_window,
            missed_in_window: a.missed_in_window,
            last_attended_at: a.last_attended_at,
        })
    }

    async fn upcoming_shifts(
        &self,
        org: OrgId,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Shift>, ReadModelError> {
        if !self.ours(org) {
            return Ok(Vec::new());
        }
        Ok(
            read::upcoming_shifts(&self.db, &self.scope, after, u64::from(limit))
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(shift)
                .collect(),
        )
    }

    async fn search_people(
        &self,
        org: OrgId,
        query: &PeopleQuery,
        limit: u32,
    ) -> Result<Vec<Person>, ReadModelError> {
        if !self.ours(org) {
            return Ok(Vec::new());
        }
        let search = PeopleSearch {
            tag: query.tag.clone(),
            ladder_stage: query.ladder_stage.clone(),
            referred_by: query.referred_by,
            name_contains: query.name_contains.clone(),
        };
        Ok(
            read::search_people(&self.db, &self.scope, &search, u64::from(limit))
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(person)
                .collect(),
        )
    }

    async fn kv_get(
        &self,
        org: OrgId,
        namespace: &str,
        key: &str,
    ) -> Result<Option<String>, ReadModelError> {
        if !self.ours(org) {
            return Ok(None);
        }
        read::kv_get(&self.db, &self.scope, namespace, key)
            .await
            .map_err(unavailable)
    }
}
