//! The map of a workplace: employers, their worksites (with an address), and units within a
//! worksite (a department, shift, floor or bargaining unit), which nest.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::{employers, units, worksites};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult, Problems};
use crate::values::{optional_text, required_text};

/// What a unit is.
pub const UNIT_KINDS: [&str; 5] = ["department", "shift", "floor", "bargaining_unit", "other"];

/// How deep units may nest (a floor of a department of a shift …).
const MAX_UNIT_DEPTH: usize = 8;

pub async fn create_employer(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    name: &str,
) -> DomainResult<employers::Model> {
    let name = required_text("input.name", Some(name), 200)?;
    let tx = db.begin_write().await?;
    let employer = employers::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await
    .map_err(|e| taken_if_unique(e, "input.name", "an employer has this name already"))?;
    audit::record(
        &tx,
        scope,
        ctx,
        "employer.create",
        "employer",
        Some(employer.id),
        &["name"],
    )
    .await?;
    tx.commit().await?;
    Ok(employer)
}

pub struct NewWorksite {
    pub employer_id: Uuid,
    pub name: String,
    pub address: Option<String>,
}

pub async fn create_worksite(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewWorksite,
) -> DomainResult<worksites::Model> {
    let mut problems = Problems::new();
    let name = problems.take(required_text("input.name", Some(&new.name), 200))?;
    let address = problems.take(optional_text("input.address", new.address.as_deref(), 500))?;
    problems.finish()?;
    let tx = db.begin_write().await?;
    employer_in(&tx, scope, new.employer_id).await?;
    let worksite = worksites::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        employer_id: Set(new.employer_id),
        name: Set(name.unwrap_or_default()),
        address: Set(address.flatten()),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await
    .map_err(worksite_name_taken)?;
    audit::record(
        &tx,
        scope,
        ctx,
        "worksite.create",
        "worksite",
        Some(worksite.id),
        &["employer_id", "name", "address"],
    )
    .await?;
    tx.commit().await?;
    Ok(worksite)
}

/// Renames an employer (the name stays unique in the organization). Audited as
/// `employer.update`. Returns it with its worksites and their units, as `employers` reads them.
pub async fn rename_employer(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    name: &str,
) -> DomainResult<(employers::Model, Vec<worksites::Model>, Vec<units::Model>)> {
    let name = required_text("name", Some(name), 200)?;
    let tx = db.begin_write().await?;
    let employer = employers::Entity::find_by_id(id)
        .filter(employers::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("employer"))?;
    let employer = if employer.name == name {
        employer
    } else {
        let mut active: employers::ActiveModel = employer.into();
        active.name = Set(name);
        let employer = active
            .update(&tx)
            .await
            .map_err(|e| taken_if_unique(e, "name", "an employer has this name already"))?;
        audit::record(
            &tx,
            scope,
            ctx,
            "employer.update",
            "employer",
            Some(employer.id),
            &["name"],
        )
        .await?;
        employer
    };
    let sites = worksites::Entity::find()
        .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
        .filter(worksites::Column::EmployerId.eq(employer.id))
        .order_by_asc(worksites::Column::Name)
        .all(&tx)
        .await?;
    let site_ids: Vec<Uuid> = sites.iter().map(|s| s.id).collect();
    let units = units_of_worksites(&tx, scope, &site_ids).await?;
    tx.commit().await?;
    Ok((employer, sites, units))
}

/// A change to a worksite: each field left `None` stays as it is.
#[derive(Default)]
pub struct WorksiteChange {
    pub name: Option<String>,
    /// `Some(None)` clears the address.
    pub address: Option<Option<String>>,
    /// Another employer of the organization (the site was sold, or entered under the wrong
    /// one). Its units, its workers' employment and the campaigns that cover it go with it.
    pub employer_id: Option<Uuid>,
}

/// Renames a worksite, changes its address or moves it to another employer: its units, its
/// workers' employment and its campaigns name the worksite, so they go with it. Audited as
/// `worksite.update` with the fields that changed. Returns it with its units.
pub async fn update_worksite(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    change: WorksiteChange,
) -> DomainResult<(worksites::Model, Vec<units::Model>)> {
    let mut problems = Problems::new();
    let name = match change.name.as_deref() {
        Some(name) => problems.take(required_text("input.name", Some(name), 200))?,
        None => None,
    };
    let address = match change.address {
        Some(address) => problems.take(optional_text("input.address", address.as_deref(), 500))?,
        None => None,
    };
    problems.finish()?;
    let tx = db.begin_write().await?;
    let site = worksite_in(&tx, scope, id)
        .await
        .map_err(|_| DomainError::not_found("worksite"))?;
    let mut fields = Vec::new();
    let mut active: worksites::ActiveModel = site.clone().into();
    if let Some(employer) = change.employer_id.filter(|e| *e != site.employer_id) {
        employer_in(&tx, scope, employer).await?;
        active.employer_id = Set(employer);
        fields.push("employer_id");
    }
    if let Some(name) = name.filter(|name| *name != site.name) {
        active.name = Set(name);
        fields.push("name");
    }
    if let Some(address) = address.filter(|address| *address != site.address) {
        active.address = Set(address);
        fields.push("address");
    }
    let site = if fields.is_empty() {
        site
    } else {
        let site = active.update(&tx).await.map_err(worksite_name_taken)?;
        audit::record(
            &tx,
            scope,
            ctx,
            "worksite.update",
            "worksite",
            Some(site.id),
            &fields,
        )
        .await?;
        site
    };
    let units = units_of_worksites(&tx, scope, &[site.id]).await?;
    tx.commit().await?;
    Ok((site, units))
}

pub struct NewUnit {
    pub worksite_id: Uuid,
    /// The unit it sits within (of the same worksite).
    pub parent_unit_id: Option<Uuid>,
    pub name: String,
    /// One of [`UNIT_KINDS`].
    pub kind: String,
}

pub async fn create_unit(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewUnit,
) -> DomainResult<units::Model> {
    let mut problems = Problems::new();
    let name = problems.take(required_text("input.name", Some(&new.name), 200))?;
    check_kind(&mut problems, &new.kind);
    problems.finish()?;
    let tx = db.begin_write().await?;
    worksite_in(&tx, scope, new.worksite_id).await?;
    if let Some(parent) = new.parent_unit_id {
        let parent = unit_in(&tx, scope, "input.parentUnitId", parent).await?;
        if parent.worksite_id != new.worksite_id {
            return Err(DomainError::validation(
                "input.parentUnitId",
                "is a unit of another worksite",
            ));
        }
        let all = units_of_worksites(&tx, scope, &[new.worksite_id]).await?;
        if depth(&all, parent.id) >= MAX_UNIT_DEPTH {
            return Err(DomainError::validation(
                "input.parentUnitId",
                format!("units nest at most {MAX_UNIT_DEPTH} deep"),
            ));
        }
    }
    let unit = units::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        worksite_id: Set(new.worksite_id),
        parent_unit_id: Set(new.parent_unit_id),
        name: Set(name.unwrap_or_default()),
        kind: Set(new.kind),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await
    .map_err(unit_name_taken)?;
    audit::record(
        &tx,
        scope,
        ctx,
        "unit.create",
        "unit",
        Some(unit.id),
        &["worksite_id", "parent_unit_id", "name", "kind"],
    )
    .await?;
    tx.commit().await?;
    Ok(unit)
}

/// A change to a unit: each field left `None` stays as it is.
#[derive(Default)]
pub struct UnitChange {
    pub name: Option<String>,
    /// One of [`UNIT_KINDS`].
    pub kind: Option<String>,
    /// `Some(None)` moves the unit to the top of its worksite; `Some(Some(id))` within unit
    /// `id` of the same worksite (with everything within it).
    pub parent_unit_id: Option<Option<Uuid>>,
}

/// Renames a unit, changes its kind, or moves it (with the units within it) elsewhere in its
/// worksite. A unit stays at its worksite, because its workers' employment names both. Refused:
/// a parent of another worksite, the unit itself or a unit within it as its parent (a loop),
/// nesting past [`MAX_UNIT_DEPTH`], and a name another unit of the worksite has. Audited as
/// `unit.update` with the fields that changed.
pub async fn update_unit(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    change: UnitChange,
) -> DomainResult<units::Model> {
    let mut problems = Problems::new();
    let name = match change.name.as_deref() {
        Some(name) => problems.take(required_text("input.name", Some(name), 200))?,
        None => None,
    };
    if let Some(kind) = change.kind.as_deref() {
        check_kind(&mut problems, kind);
    }
    problems.finish()?;
    let tx = db.begin_write().await?;
    let unit = units::Entity::find_by_id(id)
        .filter(units::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("unit"))?;
    let mut fields = Vec::new();
    let mut active: units::ActiveModel = unit.clone().into();
    if let Some(name) = name.filter(|name| *name != unit.name) {
        active.name = Set(name);
        fields.push("name");
    }
    if let Some(kind) = change.kind.filter(|kind| *kind != unit.kind) {
        active.kind = Set(kind);
        fields.push("kind");
    }
    if let Some(parent) = change.parent_unit_id.filter(|p| *p != unit.parent_unit_id) {
        if let Some(parent) = parent {
            let parent = unit_in(&tx, scope, "input.parentUnitId", parent).await?;
            if parent.worksite_id != unit.worksite_id {
                return Err(DomainError::validation(
                    "input.parentUnitId",
                    "is a unit of another worksite; a unit stays at its worksite",
                ));
            }
            let all = units_of_worksites(&tx, scope, &[unit.worksite_id]).await?;
            let moving = with_descendants(&all, &HashSet::from([unit.id]));
            if moving.contains(&parent.id) {
                return Err(DomainError::validation(
                    "input.parentUnitId",
                    "is this unit or a unit within it",
                ));
            }
            let below = moving
                .iter()
                .map(|&inner| depth(&all, inner) + 1 - depth(&all, unit.id))
                .max()
                .unwrap_or(1);
            if depth(&all, parent.id) + below > MAX_UNIT_DEPTH {
                return Err(DomainError::validation(
                    "input.parentUnitId",
                    format!("units nest at most {MAX_UNIT_DEPTH} deep"),
                ));
            }
        }
        active.parent_unit_id = Set(parent);
        fields.push("parent_unit_id");
    }
    if fields.is_empty() {
        return Ok(unit);
    }
    let unit = active.update(&tx).await.map_err(unit_name_taken)?;
    audit::record(
        &tx,
        scope,
        ctx,
        "unit.update",
        "unit",
        Some(unit.id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(unit)
}

fn check_kind(problems: &mut Problems, kind: &str) {
    if !UNIT_KINDS.contains(&kind) {
        problems.add(
            "input.kind",
            crate::error::Reason::Invalid,
            "must be department, shift, floor, bargaining_unit or other",
        );
    }
}

fn worksite_name_taken(err: sea_orm::DbErr) -> DomainError {
    taken_if_unique(
        err,
        "input.name",
        "this employer has a worksite with this name already",
    )
}

fn unit_name_taken(err: sea_orm::DbErr) -> DomainError {
    taken_if_unique(
        err,
        "input.name",
        "this worksite has a unit with this name already",
    )
}

/// How many units `id` sits within, itself included.
fn depth(units: &[units::Model], id: Uuid) -> usize {
    let parent: HashMap<Uuid, Option<Uuid>> =
        units.iter().map(|u| (u.id, u.parent_unit_id)).collect();
    let mut depth = 0;
    let mut at = Some(id);
    while let Some(current) = at {
        depth += 1;
        if depth > units.len() {
            break;
        }
        at = parent.get(&current).copied().flatten();
    }
    depth
}

/// `roots` and every unit within them, at any depth.
pub(crate) fn with_descendants(units: &[units::Model], roots: &HashSet<Uuid>) -> HashSet<Uuid> {
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for unit in units {
        if let Some(parent) = unit.parent_unit_id {
            children.entry(parent).or_default().push(unit.id);
        }
    }
    let mut out = HashSet::new();
    let mut stack: Vec<Uuid> = roots.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if out.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    out
}

/// The organization's employers, by name.
pub async fn employers(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
) -> DomainResult<Vec<employers::Model>> {
    Ok(employers::Entity::find()
        .filter(employers::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(employers::Column::Name)
        .all(db.conn())
        .await?)
}

/// The worksites of the organization (of one employer when given), by name.
pub async fn worksites(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    employer_id: Option<Uuid>,
) -> DomainResult<Vec<worksites::Model>> {
    let mut query = worksites::Entity::find()
        .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(worksites::Column::Name);
    if let Some(employer) = employer_id {
        query = query.filter(worksites::Column::EmployerId.eq(employer));
    }
    Ok(query.all(db.conn()).await?)
}

/// The units of these worksites, by name, in one statement.
pub async fn units(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    worksite_ids: &[Uuid],
) -> DomainResult<Vec<units::Model>> {
    units_of_worksites(db.conn(), scope, worksite_ids).await
}

pub(crate) async fn units_of_worksites<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    worksite_ids: &[Uuid],
) -> DomainResult<Vec<units::Model>> {
    Ok(units::Entity::find()
        .filter(units::Column::OrganizationId.eq(scope.org_id()))
        .filter(units::Column::WorksiteId.is_in(worksite_ids.iter().copied()))
        .order_by_asc(units::Column::Name)
        .order_by_asc(units::Column::Id)
        .all(conn)
        .await?)
}

async fn employer_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<employers::Model> {
    employers::Entity::find_by_id(id)
        .filter(employers::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::validation("input.employerId", "is not an employer here"))
}

pub(crate) async fn worksite_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<worksites::Model> {
    worksites::Entity::find_by_id(id)
        .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::validation("input.worksiteId", "is not a worksite here"))
}

pub(crate) async fn unit_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    field: &str,
    id: Uuid,
) -> DomainResult<units::Model> {
    units::Entity::find_by_id(id)
        .filter(units::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::validation(field, "is not a unit here"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: u128, parent: Option<u128>) -> units::Model {
        units::Model {
            id: Uuid::from_u128(id),
            organization_id: Uuid::nil(),
            worksite_id: Uuid::nil(),
            parent_unit_id: parent.map(Uuid::from_u128),
            name: id.to_string(),
            kind: "department".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn descendants_and_depth_follow_the_tree() {
        let tree = [
            unit(1, None),
            unit(2, Some(1)),
            unit(3, Some(2)),
            unit(4, None),
        ];
        let roots = HashSet::from([Uuid::from_u128(2)]);
        let under = with_descendants(&tree, &roots);
        assert_eq!(
            under,
            HashSet::from([Uuid::from_u128(2), Uuid::from_u128(3)])
        );
        assert_eq!(depth(&tree, Uuid::from_u128(3)), 3);
        assert_eq!(depth(&tree, Uuid::from_u128(4)), 1);
    }
}
