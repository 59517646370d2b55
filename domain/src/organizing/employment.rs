//! Who works where: a person's employment at a worksite (and unit), with job title, shift and
//! start date. Ending one keeps it as history; a person may hold several at once.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::employments;
use uuid::Uuid;

use super::visible_person;
use super::workplaces::{unit_in, worksite_in};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult, Problems};
use crate::outbox::{self, DomainEvent};
use crate::values::optional_text;

pub struct NewEmployment {
    pub person_id: Uuid,
    pub worksite_id: Uuid,
    /// A unit of that worksite.
    pub unit_id: Option<Uuid>,
    pub job_title: Option<String>,
    pub shift: Option<String>,
    pub started_on: Option<NaiveDate>,
}

/// Records that a person works somewhere (now).
pub async fn add(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewEmployment,
) -> DomainResult<employments::Model> {
    let mut problems = Problems::new();
    let job_title = problems.take(optional_text(
        "input.jobTitle",
        new.job_title.as_deref(),
        200,
    ))?;
    let shift = problems.take(optional_text("input.shift", new.shift.as_deref(), 100))?;
    if new.started_on.is_some_and(|d| d > Utc::now().date_naive()) {
        problems.add(
            "input.startedOn",
            crate::error::Reason::Invalid,
            "is in the future",
        );
    }
    problems.finish()?;
    let tx = db.begin_write().await?;
    visible_person(&tx, scope, "input.personId", new.person_id).await?;
    worksite_in(&tx, scope, new.worksite_id).await?;
    if let Some(unit) = new.unit_id {
        let unit = unit_in(&tx, scope, "input.unitId", unit).await?;
        if unit.worksite_id != new.worksite_id {
            return Err(DomainError::validation(
                "input.unitId",
                "is a unit of another worksite",
            ));
        }
    }
    let now = Utc::now();
    let employment = employments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        person_id: Set(new.person_id),
        worksite_id: Set(new.worksite_id),
        unit_id: Set(new.unit_id),
        job_title: Set(job_title.flatten()),
        shift: Set(shift.flatten()),
        started_on: Set(new.started_on),
        ended_on: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await?;
    changed(&tx, scope, &employment, "started").await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "employment.add",
        "employment",
        Some(employment.id),
        &[
            "person_id",
            "worksite_id",
            "unit_id",
            "job_title",
            "shift",
            "started_on",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(employment)
}

/// Ends an employment (the person left, or moved: end this one and add the new one); it stays
/// in the history.
pub async fn end(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    ended_on: Option<NaiveDate>,
) -> DomainResult<employments::Model> {
    let ended_on = ended_on.unwrap_or_else(|| Utc::now().date_naive());
    let tx = db.begin_write().await?;
    let employment = employments::Entity::find_by_id(id)
        .filter(employments::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("employment"))?;
    visible_person(&tx, scope, "id", employment.person_id)
        .await
        .map_err(|_| DomainError::not_found("employment"))?;
    if employment.ended_on.is_some() {
        return Err(DomainError::Conflict(
            "this employment has ended already".into(),
        ));
    }
    if employment.started_on.is_some_and(|s| ended_on < s) {
        return Err(DomainError::validation(
            "endedOn",
            "is before the employment started",
        ));
    }
    let mut active: employments::ActiveModel = employment.into();
    active.ended_on = Set(Some(ended_on));
    active.updated_at = Set(Utc::now());
    let employment = active.update(&tx).await?;
    changed(&tx, scope, &employment, "ended").await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "employment.end",
        "employment",
        Some(employment.id),
        &["ended_on"],
    )
    .await?;
    tx.commit().await?;
    Ok(employment)
}

async fn changed<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &crate::auth::OrgScope,
    employment: &employments::Model,
    change: &str,
) -> DomainResult<()> {
    let event = DomainEvent::EmploymentChanged {
        employment_id: employment.id,
        person_id: employment.person_id,
        worksite_id: employment.worksite_id,
        unit_id: employment.unit_id,
        change: change.to_owned(),
    };
    outbox::record(conn, scope, event).await?;
    Ok(())
}

/// The employments of each of `person_ids`, current first, then by start, in one statement.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<employments::Model>>> {
    let rows = employments::Entity::find()
        .filter(employments::Column::OrganizationId.eq(scope.org_id()))
        .filter(employments::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_desc(employments::Column::CreatedAt)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<employments::Model>> = HashMap::new();
    for row in rows {
        by_person.entry(row.person_id).or_default().push(row);
    }
    for list in by_person.values_mut() {
        list.sort_by_key(|e| e.ended_on.is_some());
    }
    Ok(by_person)
}
