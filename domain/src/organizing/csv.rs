//! The organizing columns of a people CSV (a union's membership list).
//!
//! An import names each row's worksite (by name, with its employer's name when two employers
//! have worksites of that name) and unit, and so places the person: a current employment there
//! is kept (its job title, shift and start date updated from the row), otherwise one is added.
//! With a campaign, the row's level (1–5), card and petition dates become the person's standing
//! in it, and a level joins their assessment history. Everything is written in the import's
//! transaction with multi-row statements.
//!
//! An export adds where each person works now and, for one campaign, their standing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use turnout_entity::{
    assessments, campaign_people, employers, employments, organizing_campaigns, units, worksites,
};
use uuid::Uuid;

use super::campaigns::{Coverage, campaign_in, coverage, scale_of};
use super::standing::in_campaign;
use crate::auth::{Can, OrgScope, perm};
use crate::db::Db;
use crate::error::DomainResult;
use crate::people_csv::ImportField;

/// Rows per multi-row INSERT (employments have 11 columns, assessments 9).
const CHUNK: usize = 500;

/// The organizing cells of one row, checked one by one.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cells {
    pub employer: Option<String>,
    pub worksite: Option<String>,
    pub unit: Option<String>,
    pub job_title: Option<String>,
    pub shift: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub level: Option<i16>,
    pub card_signed_on: Option<NaiveDate>,
    pub petition_signed_on: Option<NaiveDate>,
}

impl Cells {
    fn has_standing(&self) -> bool {
        self.level.is_some() || self.card_signed_on.is_some() || self.petition_signed_on.is_some()
    }

    fn has_job_detail(&self) -> bool {
        self.job_title.is_some() || self.shift.is_some() || self.started_on.is_some()
    }
}

/// The fields that need `organizing:write` to import.
pub(crate) fn is_organizing(field: ImportField) -> bool {
    matches!(
        field,
        ImportField::Employer
            | ImportField::Worksite
            | ImportField::Unit
            | ImportField::JobTitle
            | ImportField::Shift
            | ImportField::StartedOn
            | ImportField::CampaignLevel
            | ImportField::CardSignedOn
            | ImportField::PetitionSignedOn
    )
}

/// The fields that record a standing in the import's campaign.
pub(crate) fn needs_campaign(field: ImportField) -> bool {
    matches!(
        field,
        ImportField::CampaignLevel | ImportField::CardSignedOn | ImportField::PetitionSignedOn
    )
}

/// A date cell: `YYYY-MM-DD`, not in the future.
pub(crate) fn date(raw: &str) -> Result<NaiveDate, String> {
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| "must be a date as YYYY-MM-DD".to_owned())?;
    if day > Utc::now().date_naive() + chrono::Days::new(1) {
        return Err("is in the future".into());
    }
    Ok(day)
}

/// Where a row puts its person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    worksite_id: Uuid,
    unit_id: Option<Uuid>,
}

/// What rows are checked against: the organization's workplaces and the import's campaign.
pub(crate) struct Workplaces {
    /// Worksites with their employer's name.
    worksites: Vec<(worksites::Model, String)>,
    units: Vec<units::Model>,
    campaign: Option<(Uuid, Coverage)>,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

impl Workplaces {
    /// Loads them in a constant number of statements (the campaign must be the scope's).
    pub(crate) async fn load<C: ConnectionTrait>(
        conn: &C,
        scope: &OrgScope,
        campaign_id: Option<Uuid>,
    ) -> DomainResult<Self> {
        let employer_names: HashMap<Uuid, String> = employers::Entity::find()
            .filter(employers::Column::OrganizationId.eq(scope.org_id()))
            .all(conn)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        let worksites = worksites::Entity::find()
            .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
            .order_by_asc(worksites::Column::Name)
            .all(conn)
            .await?
            .into_iter()
            .map(|w| {
                let employer = employer_names.get(&w.employer_id).cloned();
                (w, employer.unwrap_or_default())
            })
            .collect();
        let units = units::Entity::find()
            .filter(units::Column::OrganizationId.eq(scope.org_id()))
            .all(conn)
            .await?;
        let campaign = match campaign_id {
            Some(id) => {
                super::campaigns::open_campaign_in(conn, scope, id).await?;
                Some((id, coverage(conn, scope, id).await?))
            }
            None => None,
        };
        Ok(Self {
            worksites,
            units,
            campaign,
        })
    }

    /// The place a row names (none when it names no worksite), or the field at fault and why.
    pub(crate) fn place(&self, cells: &Cells) -> Result<Option<Place>, (ImportField, String)> {
        let Some(name) = &cells.worksite else {
            if cells.unit.is_some() || cells.has_job_detail() {
                return Err((
                    ImportField::Worksite,
                    "is needed for a unit, job title, shift or start date".into(),
                ));
            }
            if cells.has_standing() {
                return Err((
                    ImportField::Worksite,
                    "is needed to record a standing in the campaign".into(),
                ));
            }
            return Ok(None);
        };
        let found: Vec<&worksites::Model> = self
            .worksites
            .iter()
            .filter(|(w, employer)| {
                same(&w.name, name) && cells.employer.as_ref().is_none_or(|e| same(employer, e))
            })
            .map(|(w, _)| w)
            .collect();
        let worksite = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err((
                    ImportField::Worksite,
                    format!("no worksite is named `{name}`: create it first (createWorksite)"),
                ));
            }
            _ => {
                return Err((
                    ImportField::Worksite,
                    format!(
                        "several employers have a worksite named `{name}`: map an EMPLOYER column"
                    ),
                ));
            }
        };
        let unit_id = match &cells.unit {
            None => None,
            Some(unit) => Some(
                self.units
                    .iter()
                    .find(|u| u.worksite_id == worksite.id && same(&u.name, unit))
                    .map(|u| u.id)
                    .ok_or_else(|| {
                        (
                            ImportField::Unit,
                            format!("`{}` has no unit named `{unit}`", worksite.name),
                        )
                    })?,
            ),
        };
        let place = Place {
            worksite_id: worksite.id,
            unit_id,
        };
        if cells.has_standing()
            && let Some((_, coverage)) = &self.campaign
        {
            let covered = unit_id.is_some_and(|u| coverage.covered_units.contains(&u))
                || coverage.worksite_ids.contains(&worksite.id);
            if !covered {
                return Err((
                    ImportField::Worksite,
                    "the campaign does not cover this worksite or unit (map UNIT when it covers \
                     units)"
                        .into(),
                ));
            }
        }
        Ok(Some(place))
    }
}

/// One placed row, ready to write.
pub(crate) struct Placed<'a> {
    pub person_id: Uuid,
    pub place: Place,
    pub cells: &'a Cells,
}

/// Writes the employments and standings of an import, in the caller's transaction.
pub(crate) async fn write<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    workplaces: &Workplaces,
    rows: &[Placed<'_>],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let org = scope.org_id();
    let people: Vec<Uuid> = rows.iter().map(|r| r.person_id).collect();
    let mut current: HashMap<Uuid, Vec<employments::Model>> = HashMap::new();
    for chunk in people.chunks(CHUNK) {
        for job in employments::Entity::find()
            .filter(employments::Column::OrganizationId.eq(org))
            .filter(employments::Column::PersonId.is_in(chunk.iter().copied()))
            .filter(employments::Column::EndedOn.is_null())
            .all(conn)
            .await?
        {
            current.entry(job.person_id).or_default().push(job);
        }
    }
    let mut added = Vec::new();
    for row in rows {
        let c = row.cells;
        let (worksite, unit) = (row.place.worksite_id, row.place.unit_id);
        let jobs = current
            .get(&row.person_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // The same job; else, for a row naming no unit, any job at the worksite; else a job at
        // the worksite with no unit yet, which the row's unit makes precise.
        let job = jobs
            .iter()
            .find(|j| j.worksite_id == worksite && j.unit_id == unit)
            .or_else(|| {
                jobs.iter()
                    .find(|j| j.worksite_id == worksite && (unit.is_none() || j.unit_id.is_none()))
            });
        match job {
            Some(job) => {
                let changed = job.unit_id.is_none() && unit.is_some()
                    || (c.job_title.is_some() && c.job_title != job.job_title)
                    || (c.shift.is_some() && c.shift != job.shift)
                    || (c.started_on.is_some() && c.started_on != job.started_on);
                if changed {
                    let mut m: employments::ActiveModel = job.clone().into();
                    if job.unit_id.is_none() && unit.is_some() {
                        m.unit_id = Set(unit);
                    }
                    if c.job_title.is_some() {
                        m.job_title = Set(c.job_title.clone());
                    }
                    if c.shift.is_some() {
                        m.shift = Set(c.shift.clone());
                    }
                    if c.started_on.is_some() {
                        m.started_on = Set(c.started_on);
                    }
                    m.updated_at = Set(now);
                    m.update(conn).await?;
                }
            }
            None => added.push(employments::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                person_id: Set(row.person_id),
                worksite_id: Set(row.place.worksite_id),
                unit_id: Set(row.place.unit_id),
                job_title: Set(c.job_title.clone()),
                shift: Set(c.shift.clone()),
                started_on: Set(c.started_on),
                ended_on: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }),
        }
    }
    for chunk in added.chunks(CHUNK) {
        employments::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }

    let Some((campaign_id, _)) = &workplaces.campaign else {
        return Ok(());
    };
    let (user, key) = scope.actor_ids();
    let standings: Vec<campaign_people::ActiveModel> = rows
        .iter()
        .filter(|r| r.cells.has_standing())
        .map(|r| campaign_people::ActiveModel {
            organization_id: Set(org),
            campaign_id: Set(*campaign_id),
            person_id: Set(r.person_id),
            level: Set(r.cells.level),
            assessed_at: Set(r.cells.level.map(|_| now)),
            card_signed_on: Set(r.cells.card_signed_on),
            petition_signed_on: Set(r.cells.petition_signed_on),
            leader: Set(false),
            updated_at: Set(now),
        })
        .collect();
    let history: Vec<assessments::ActiveModel> = rows
        .iter()
        .filter_map(|r| {
            r.cells.level.map(|level| assessments::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(org),
                campaign_id: Set(*campaign_id),
                person_id: Set(r.person_id),
                level: Set(level),
                note: Set(Some("imported from CSV".into())),
                assessed_by_user_id: Set(user),
                assessed_by_api_key_id: Set(key),
                assessed_at: Set(now),
            })
        })
        .collect();
    // A cell left empty keeps what the standing already says, so one multi-row upsert serves
    // rows that set different columns.
    let keep = |column: &str| {
        Expr::cust(format!(
            "COALESCE(excluded.{column}, campaign_people.{column})"
        ))
    };
    for chunk in standings.chunks(CHUNK) {
        campaign_people::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    campaign_people::Column::CampaignId,
                    campaign_people::Column::PersonId,
                ])
                .value(campaign_people::Column::Level, keep("level"))
                .value(campaign_people::Column::AssessedAt, keep("assessed_at"))
                .value(
                    campaign_people::Column::CardSignedOn,
                    keep("card_signed_on"),
                )
                .value(
                    campaign_people::Column::PetitionSignedOn,
                    keep("petition_signed_on"),
                )
                .update_column(campaign_people::Column::UpdatedAt)
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in history.chunks(CHUNK) {
        assessments::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The columns an export adds: where people work, and with a campaign their standing in it.
pub fn export_columns(with_campaign: bool) -> Vec<&'static str> {
    let mut columns = vec!["worksite", "unit", "job_title", "shift"];
    if with_campaign {
        columns.extend([
            "campaign_level",
            "campaign_level_label",
            "card_signed_on",
            "petition_signed_on",
            "leader",
        ]);
    }
    columns
}

/// What an export needs besides each page of people, read once.
pub struct ExportSource {
    worksite_names: HashMap<Uuid, String>,
    unit_names: HashMap<Uuid, String>,
    campaign: Option<organizing_campaigns::Model>,
}

impl ExportSource {
    /// The organization's workplace names and the campaign (the scope's, else `NOT_FOUND`).
    pub async fn load(
        db: &Db,
        scope: &Can<perm::OrganizingRead>,
        campaign_id: Option<Uuid>,
    ) -> DomainResult<Self> {
        let worksite_names = worksites::Entity::find()
            .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
            .all(db.conn())
            .await?
            .into_iter()
            .map(|w| (w.id, w.name))
            .collect();
        let unit_names = units::Entity::find()
            .filter(units::Column::OrganizationId.eq(scope.org_id()))
            .all(db.conn())
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
        let campaign = match campaign_id {
            Some(id) => Some(campaign_in(db.conn(), scope, id).await?),
            None => None,
        };
        Ok(Self {
            worksite_names,
            unit_names,
            campaign,
        })
    }

    pub fn with_campaign(&self) -> bool {
        self.campaign.is_some()
    }

    /// The added cells of each person of a page, in [`export_columns`] order (two statements).
    pub async fn cells(
        &self,
        db: &Db,
        scope: &Can<perm::OrganizingRead>,
        person_ids: &[Uuid],
    ) -> DomainResult<HashMap<Uuid, Vec<String>>> {
        let mut jobs: HashMap<Uuid, Vec<employments::Model>> = HashMap::new();
        for job in employments::Entity::find()
            .filter(employments::Column::OrganizationId.eq(scope.org_id()))
            .filter(employments::Column::PersonId.is_in(person_ids.iter().copied()))
            .filter(employments::Column::EndedOn.is_null())
            .order_by_asc(employments::Column::CreatedAt)
            .order_by_asc(employments::Column::Id)
            .all(db.conn())
            .await?
        {
            jobs.entry(job.person_id).or_default().push(job);
        }
        let standings = match &self.campaign {
            Some(c) => in_campaign(db.conn(), scope, c.id, person_ids).await?,
            None => HashMap::new(),
        };
        let scale = self.campaign.as_ref().map(scale_of).unwrap_or_default();
        let none = Vec::new();
        Ok(person_ids
            .iter()
            .map(|id| {
                // Several current jobs are listed in the same order in each column.
                let jobs = jobs.get(id).unwrap_or(&none);
                let join = |cell: &dyn Fn(&employments::Model) -> Option<String>| {
                    jobs.iter()
                        .map(|j| cell(j).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let mut cells = vec![
                    join(&|j| self.worksite_names.get(&j.worksite_id).cloned()),
                    join(&|j| j.unit_id.and_then(|u| self.unit_names.get(&u).cloned())),
                    join(&|j| j.job_title.clone()),
                    join(&|j| j.shift.clone()),
                ];
                if self.campaign.is_some() {
                    let s = standings.get(id);
                    let level = s.and_then(|s| s.level);
                    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                    cells.extend([
                        level.map(|l| l.to_string()).unwrap_or_default(),
                        level
                            .and_then(|l| scale.iter().find(|x| x.level == l))
                            .map(|x| x.label.clone())
                            .unwrap_or_default(),
                        day(s.and_then(|s| s.card_signed_on)),
                        day(s.and_then(|s| s.petition_signed_on)),
                        s.is_some_and(|s| s.leader).to_string(),
                    ]);
                }
                (*id, cells)
            })
            .collect())
    }
}
