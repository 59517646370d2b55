//! Union organizing: workplaces, employment, campaigns, assessments, relationships, one-on-ones
//! and the wall chart. Reading needs `organizing:read`, changing `organizing:write`.

mod types;

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use turnout_domain::auth::{OrgScope, perm};
use turnout_domain::organizing::campaigns::{self, CampaignInput, LevelLabel, scale_of};
use turnout_domain::organizing::employment::{self, NewEmployment};
use turnout_domain::organizing::one_on_ones::{self, NewOneOnOne};
use turnout_domain::organizing::relationships::{self, NewRelationship};
use turnout_domain::organizing::standing::{self, Document, NewAssessment};
use turnout_domain::organizing::wall_chart::{self, Counts};
use turnout_domain::organizing::workplaces::{
    self, NewUnit, NewWorksite, UnitChange, WorksiteChange,
};
use turnout_entity::{organizing_campaigns, units, worksites};
use uuid::Uuid;

pub use types::*;

use super::audit::request_context;
use super::context::{can, db};
use super::loaders::organizing_loaders_of;
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of, parse_uuid};

fn person_id(field: &str, id: &ID) -> async_graphql::Result<Uuid> {
    decode_id_of(field, NodeType::Person, id)
}

fn uuids(field: &str, ids: &[ID]) -> async_graphql::Result<Vec<Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| parse_uuid(&format!("{field}[{i}]"), id))
        .collect()
}

/// Worksites with their units, from rows read in two statements.
fn nest(sites: Vec<worksites::Model>, all_units: Vec<units::Model>) -> Vec<Worksite> {
    let mut by_site: HashMap<Uuid, Vec<Unit>> = HashMap::new();
    for unit in all_units {
        by_site
            .entry(unit.worksite_id)
            .or_default()
            .push(Unit(unit));
    }
    sites
        .into_iter()
        .map(|row| Worksite {
            units: by_site.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect()
}

/// Campaigns with their targets, read in one statement (for a reader or a writer).
async fn campaign_objects(
    ctx: &Context<'_>,
    scope: &OrgScope,
    rows: Vec<organizing_campaigns::Model>,
) -> async_graphql::Result<Vec<OrganizingCampaign>> {
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let targets = campaigns::targets_of(db(ctx).conn(), scope, &ids)
        .await
        .gql()?;
    Ok(rows
        .into_iter()
        .map(|row| OrganizingCampaign {
            worksite_ids: targets
                .iter()
                .filter(|t| t.campaign_id == row.id)
                .filter_map(|t| t.worksite_id)
                .collect(),
            unit_ids: targets
                .iter()
                .filter(|t| t.campaign_id == row.id)
                .filter_map(|t| t.unit_id)
                .collect(),
            row,
        })
        .collect())
}

pub(crate) async fn assessment_history(
    ctx: &Context<'_>,
    campaign_id: Uuid,
    person_id: Uuid,
) -> async_graphql::Result<Vec<Assessment>> {
    let scope = can::<perm::OrganizingRead>(ctx)?;
    Ok(standing::history(db(ctx), &scope, campaign_id, person_id)
        .await
        .gql()?
        .into_iter()
        .map(Assessment)
        .collect())
}

/// A campaign's wall chart: every covered unit with its workers, and its structure tests.
pub struct WallChart(std::sync::Arc<wall_chart::WallChart>);

impl WallChart {
    async fn read(ctx: &Context<'_>, campaign_id: Uuid) -> async_graphql::Result<Self> {
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let chart = wall_chart::read(db(ctx), &scope, &request_context(ctx), campaign_id)
            .await
            .gql()?;
        Ok(Self(std::sync::Arc::new(chart)))
    }

    fn column_object(&self, i: usize) -> WallChartColumn {
        WallChartColumn {
            chart: self.0.clone(),
            index: i,
        }
    }
}

#[Object]
impl WallChart {
    /// One column per covered unit (and one per covered worksite for workers in no unit), by
    /// worksite and then unit name.
    async fn columns(&self) -> Vec<WallChartColumn> {
        (0..self.0.columns.len())
            .map(|i| self.column_object(i))
            .collect()
    }

    /// The structure test: overall, per column, and the columns without a leader.
    async fn structure(&self) -> StructureReport {
        let s = wall_chart::structure(&self.0);
        StructureReport {
            overall: s.overall.clone().into(),
            goal_percent: s.goal_percent,
            goal_reached: s.goal_reached,
            columns_without_leader: s
                .columns_without_leader
                .iter()
                .map(|&i| self.column_object(i))
                .collect(),
        }
    }

    /// The counts at the end of each of the last `weeks` weeks (oldest first; the last is this
    /// week so far), from the assessment history of today's workers.
    async fn weekly(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 12, desc = "How many weeks (1–104).")] weeks: i32,
    ) -> async_graphql::Result<Vec<StructureWeek>> {
        if !(1..=104).contains(&weeks) {
            return Err(crate::error::invalid("weeks", "must be 1–104"));
        }
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let series = wall_chart::weekly(db(ctx), &scope, &self.0, weeks as u32)
            .await
            .gql()?;
        Ok(series
            .into_iter()
            .map(|w| StructureWeek {
                week_starting: w.starting,
                counts: w.counts.into(),
            })
            .collect())
    }
}

/// One column of a wall chart.
pub struct WallChartColumn {
    chart: std::sync::Arc<wall_chart::WallChart>,
    index: usize,
}

impl WallChartColumn {
    fn column(&self) -> &wall_chart::Column {
        &self.chart.columns[self.index]
    }
}

#[Object]
impl WallChartColumn {
    /// The worksite (a UUID).
    async fn worksite_id(&self) -> ID {
        ID(self.column().worksite_id.to_string())
    }
    /// The worksite's name.
    async fn worksite_name(&self) -> &str {
        self.chart
            .worksites
            .iter()
            .find(|w| w.id == self.column().worksite_id)
            .map_or("", |w| w.name.as_str())
    }
    /// The unit; null for the workers of a covered worksite who are in no covered unit.
    async fn unit(&self) -> Option<Unit> {
        self.column().unit.clone().map(Unit)
    }
    /// The workers, by last name.
    async fn workers(&self) -> Vec<WallChartWorker> {
        (0..self.column().workers.len())
            .map(|i| WallChartWorker {
                chart: self.chart.clone(),
                column: self.index,
                index: i,
            })
            .collect()
    }
    /// This column's structure counts.
    async fn counts(&self) -> StructureCounts {
        Counts::of(&self.column().workers).into()
    }
}

/// One worker on a wall chart.
pub struct WallChartWorker {
    chart: std::sync::Arc<wall_chart::WallChart>,
    column: usize,
    index: usize,
}

impl WallChartWorker {
    fn worker(&self) -> &wall_chart::Worker {
        &self.chart.columns[self.column].workers[self.index]
    }
}

#[Object]
impl WallChartWorker {
    async fn person(&self) -> Person {
        Person::from(self.worker().person.clone())
    }
    /// The current assessment, 1–5; null when not assessed.
    async fn assessment(&self) -> Option<i32> {
        self.worker().level().map(i32::from)
    }
    /// The label of that level on the campaign's scale.
    async fn assessment_label(&self) -> Option<String> {
        let level = self.worker().level()?;
        scale_of(&self.chart.campaign)
            .into_iter()
            .find(|l| l.level == level)
            .map(|l| l.label)
    }
    async fn assessed_at(&self) -> Option<DateTime<Utc>> {
        self.worker().standing.as_ref().and_then(|s| s.assessed_at)
    }
    /// True for a leader in this campaign.
    async fn leader(&self) -> bool {
        self.worker().leader()
    }
    /// The worker's point person (a user's UUID).
    async fn point_person_user_id(&self) -> Option<ID> {
        self.worker()
            .person
            .point_person_user_id
            .map(|id| ID(id.to_string()))
    }
    /// Their latest note (a call, a one-on-one …).
    async fn last_contact_at(&self) -> Option<DateTime<Utc>> {
        self.worker().last_contact_at
    }
    async fn card_signed_on(&self) -> Option<NaiveDate> {
        self.worker()
            .standing
            .as_ref()
            .and_then(|s| s.card_signed_on)
    }
    async fn petition_signed_on(&self) -> Option<NaiveDate> {
        self.worker()
            .standing
            .as_ref()
            .and_then(|s| s.petition_signed_on)
    }
    async fn job_title(&self) -> Option<&str> {
        self.worker().employment.job_title.as_deref()
    }
    async fn shift(&self) -> Option<&str> {
        self.worker().employment.shift.as_deref()
    }
}

/// How many workers are at one level.
#[derive(SimpleObject)]
pub struct LevelCount {
    pub level: i32,
    pub count: i32,
}

/// The structure counts of a group of workers.
#[derive(SimpleObject)]
pub struct StructureCounts {
    pub workers: i32,
    /// Level 1 to 5, in order.
    pub levels: Vec<LevelCount>,
    pub unassessed: i32,
    /// Workers who signed a card.
    pub signed: i32,
    pub percent_signed: f64,
    /// The share of workers assessed 1 or 2, in percent.
    pub percent_assessed_one_or_two: f64,
    pub leaders: i32,
    pub leaders_per_worker: f64,
}

impl From<Counts> for StructureCounts {
    fn from(c: Counts) -> Self {
        let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            workers: n(c.workers),
            levels: (0..5)
                .map(|i| LevelCount {
                    level: i as i32 + 1,
                    count: n(c.levels[i]),
                })
                .collect(),
            unassessed: n(c.unassessed),
            signed: n(c.signed),
            percent_signed: c.percent_signed(),
            percent_assessed_one_or_two: c.percent_supporting(),
            leaders: n(c.leaders),
            leaders_per_worker: c.leaders_per_worker(),
        }
    }
}

/// A campaign's structure test.
#[derive(SimpleObject)]
pub struct StructureReport {
    /// Every worker once, however many columns they are in.
    pub overall: StructureCounts,
    /// The columns that have workers and no leader.
    pub columns_without_leader: Vec<WallChartColumn>,
    pub goal_percent: i32,
    /// True when the share signed has reached the goal.
    pub goal_reached: bool,
}

/// The counts as of the end of one week.
#[derive(SimpleObject)]
pub struct StructureWeek {
    /// The Monday the week starts on.
    pub week_starting: NaiveDate,
    pub counts: StructureCounts,
}

/// One connection of a person, with the other person's standing.
pub struct PersonLink(relationships::Connection, Uuid);

#[Object]
impl PersonLink {
    async fn relationship(&self) -> Relationship {
        Relationship(self.0.relationship.clone())
    }
    /// `OUTGOING` when the person asked about is the relationship's `from`.
    async fn direction(&self) -> RelationshipDirection {
        if self.0.relationship.from_person_id == self.1 {
            RelationshipDirection::Outgoing
        } else {
            RelationshipDirection::Incoming
        }
    }
    /// The other person.
    async fn person(&self) -> Person {
        Person::from(self.0.other.clone())
    }
    /// The other person's standing in the campaign asked about.
    async fn standing(&self) -> Option<CampaignStanding> {
        self.0.standing.clone().map(CampaignStanding)
    }
}

/// Which way a relationship points, seen from one person.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipDirection {
    Outgoing,
    Incoming,
}

/// Reading organizing data. Needs `organizing:read`.
#[derive(Default)]
pub struct OrganizingQuery;

#[Object]
impl OrganizingQuery {
    /// The organization's employers, by name, with their worksites and units.
    async fn employers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Employer>> {
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let employers = workplaces::employers(db(ctx), &scope).await.gql()?;
        let sites = workplaces::worksites(db(ctx), &scope, None).await.gql()?;
        let site_ids: Vec<Uuid> = sites.iter().map(|s| s.id).collect();
        let all_units = workplaces::units(db(ctx), &scope, &site_ids).await.gql()?;
        let mut by_employer: HashMap<Uuid, Vec<Worksite>> = HashMap::new();
        for site in nest(sites, all_units) {
            by_employer
                .entry(site.row.employer_id)
                .or_default()
                .push(site);
        }
        Ok(employers
            .into_iter()
            .map(|row| Employer {
                worksites: by_employer.remove(&row.id).unwrap_or_default(),
                row,
            })
            .collect())
    }

    /// The organization's organizing campaigns, newest first.
    async fn organizing_campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Include archived campaigns.")] include_archived: bool,
    ) -> async_graphql::Result<Vec<OrganizingCampaign>> {
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let rows = campaigns::list(db(ctx), &scope, include_archived)
            .await
            .gql()?;
        campaign_objects(ctx, &scope, rows).await
    }

    /// One organizing campaign.
    async fn organizing_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] id: ID,
    ) -> async_graphql::Result<OrganizingCampaign> {
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = campaigns::get(db(ctx), &scope, id).await.gql()?;
        campaign_object(ctx, &scope, row).await
    }

    /// Who a person is connected to, both ways, with each one's standing in `campaignId`.
    async fn connections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person (global ID).")] person_id: ID,
        #[graphql(desc = "A campaign (a UUID), for the others' standing in it.")]
        campaign_id: Option<ID>,
    ) -> async_graphql::Result<Vec<PersonLink>> {
        let scope = can::<perm::OrganizingRead>(ctx)?;
        let person = decode_id_of("personId", NodeType::Person, &person_id)?;
        let campaign = campaign_id
            .as_ref()
            .map(|c| parse_uuid("campaignId", c))
            .transpose()?;
        Ok(
            relationships::connections(db(ctx), &scope, person, campaign)
                .await
                .gql()?
                .into_iter()
                .map(|c| PersonLink(c, person))
                .collect(),
        )
    }
}

/// The organizing fields of a person (resolved by `Person`), each batched per request.
pub(crate) async fn employments_of(
    ctx: &Context<'_>,
    person: Uuid,
) -> async_graphql::Result<Vec<Employment>> {
    let rows = organizing_loaders_of(ctx)?
        .employments
        .load_one(person)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(Employment)
        .collect())
}

pub(crate) async fn standings_of(
    ctx: &Context<'_>,
    person: Uuid,
) -> async_graphql::Result<Vec<CampaignStanding>> {
    let rows = organizing_loaders_of(ctx)?
        .standings
        .load_one(person)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(CampaignStanding)
        .collect())
}

pub(crate) async fn relationships_of(
    ctx: &Context<'_>,
    person: Uuid,
) -> async_graphql::Result<Vec<Relationship>> {
    let rows = organizing_loaders_of(ctx)?
        .relationships
        .load_one(person)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(Relationship)
        .collect())
}

pub(crate) async fn one_on_ones_of(
    ctx: &Context<'_>,
    person: Uuid,
) -> async_graphql::Result<Vec<OneOnOne>> {
    let rows = organizing_loaders_of(ctx)?
        .one_on_ones
        .load_one(person)
        .await?;
    Ok(rows.unwrap_or_default().into_iter().map(OneOnOne).collect())
}

/// A new worksite.
#[derive(InputObject)]
pub struct CreateWorksiteInput {
    /// The employer (a UUID).
    pub employer_id: ID,
    /// 1–200 characters, unique for the employer.
    pub name: String,
    pub address: Option<String>,
}

/// A change to a worksite; a field left out stays as it is.
#[derive(InputObject)]
pub struct UpdateWorksiteInput {
    /// 1–200 characters, unique for the employer.
    pub name: Option<String>,
    /// Up to 500 characters; `null` clears it.
    pub address: MaybeUndefined<String>,
    /// Move it to another employer of the organization (a UUID): its units, employment and
    /// campaigns go with it. Its name must be free at that employer (`CONFLICT`).
    pub employer_id: Option<ID>,
}

/// A new unit.
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// The worksite (a UUID).
    pub worksite_id: ID,
    /// The unit it sits within, of the same worksite (a UUID).
    pub parent_unit_id: Option<ID>,
    /// 1–200 characters, unique within the worksite.
    pub name: String,
    pub kind: UnitKind,
}

/// A change to a unit; a field left out stays as it is.
#[derive(InputObject)]
pub struct UpdateUnitInput {
    /// 1–200 characters, unique within the worksite.
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    /// The unit to move it within, of the same worksite (a UUID); `null` moves it to the top
    /// of its worksite. The units within it move with it.
    pub parent_unit_id: MaybeUndefined<ID>,
}

/// A person's job.
#[derive(InputObject)]
pub struct AddEmploymentInput {
    /// The person (global ID).
    pub person_id: ID,
    /// The worksite (a UUID).
    pub worksite_id: ID,
    /// A unit of that worksite (a UUID).
    pub unit_id: Option<ID>,
    pub job_title: Option<String>,
    pub shift: Option<String>,
    pub started_on: Option<NaiveDate>,
}

/// A label and colour for one level of a scale.
#[derive(InputObject)]
pub struct AssessmentLevelInput {
    /// 1–40 characters.
    pub label: String,
    /// `#rrggbb`.
    pub color: String,
}

/// A campaign's fields; on update, what is left out stays.
#[derive(InputObject)]
pub struct OrganizingCampaignInput {
    /// 1–200 characters, unique in the organization (required to create).
    pub name: Option<String>,
    /// 1–100; 70 when a new campaign leaves it out.
    pub goal_percent: Option<i32>,
    /// Worksites covered, with all their units (UUIDs).
    pub worksite_ids: Option<Vec<ID>>,
    /// Units covered, with the units within them (UUIDs).
    pub unit_ids: Option<Vec<ID>>,
    /// Five levels, for 1 to 5; the default scale (1 Leader … 5 Opposed) when left out.
    pub scale: Option<Vec<AssessmentLevelInput>>,
}

impl OrganizingCampaignInput {
    fn into_domain(self) -> async_graphql::Result<CampaignInput> {
        Ok(CampaignInput {
            name: self.name,
            goal_percent: self.goal_percent,
            worksite_ids: self
                .worksite_ids
                .as_deref()
                .map(|ids| uuids("input.worksiteIds", ids))
                .transpose()?,
            unit_ids: self
                .unit_ids
                .as_deref()
                .map(|ids| uuids("input.unitIds", ids))
                .transpose()?,
            scale: self.scale.map(|levels| {
                levels
                    .into_iter()
                    .map(|l| LevelLabel {
                        label: l.label,
                        color: l.color,
                    })
                    .collect()
            }),
        })
    }
}

/// An assessment of a worker in a campaign.
#[derive(InputObject)]
pub struct AssessWorkerInput {
    /// The campaign (a UUID).
    pub campaign_id: ID,
    /// The worker (global ID); they must work where the campaign covers.
    pub person_id: ID,
    /// 1–5 on the campaign's scale.
    pub level: i32,
    /// Why (up to 2000 characters).
    pub note: Option<String>,
}

/// A new relationship.
#[derive(InputObject)]
pub struct AddRelationshipInput {
    /// Who it goes from (global ID): the social leader, the organizer, the recruit …
    pub from_person_id: ID,
    /// Who it goes to (global ID).
    pub to_person_id: ID,
    pub kind: RelationshipKind,
    pub note: Option<String>,
}

/// A one-on-one to log.
#[derive(InputObject)]
pub struct LogOneOnOneInput {
    /// The worker talked with (global ID).
    pub person_id: ID,
    /// A worker-leader who held or joined it (global ID).
    pub organizer_person_id: Option<ID>,
    /// The campaign it was part of (a UUID); needed for `assessmentAfter`.
    pub campaign_id: Option<ID>,
    /// What was said (1–10000 characters); it becomes the note.
    pub summary: String,
    /// The issue the worker raised.
    pub issue: Option<String>,
    /// Where the worker stands after (1–5); recorded as an assessment in the campaign.
    pub assessment_after: Option<i32>,
    /// The next step agreed.
    pub next_step: Option<String>,
    /// When it happened; now when left out.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Changing organizing data. Needs `organizing:write`.
#[derive(Default)]
pub struct OrganizingMutation;

#[Object]
impl OrganizingMutation {
    /// Add an employer.
    async fn create_employer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1–200 characters, unique in the organization.")] name: String,
    ) -> async_graphql::Result<Employer> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let row = workplaces::create_employer(db(ctx), &scope, &request_context(ctx), &name)
            .await
            .gql()?;
        Ok(Employer {
            row,
            worksites: Vec::new(),
        })
    }

    /// Add a worksite of an employer.
    async fn create_worksite(
        &self,
        ctx: &Context<'_>,
        input: CreateWorksiteInput,
    ) -> async_graphql::Result<Worksite> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewWorksite {
            employer_id: parse_uuid("input.employerId", &input.employer_id)?,
            name: input.name,
            address: input.address,
        };
        let row = workplaces::create_worksite(db(ctx), &scope, &request_context(ctx), new)
            .await
            .gql()?;
        Ok(Worksite {
            row,
            units: Vec::new(),
        })
    }

    /// Rename an employer. `NOT_FOUND` for another organization's; `CONFLICT` (reason
    /// `TAKEN`) for a name another employer here has.
    async fn rename_employer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The employer (a UUID).")] id: ID,
        #[graphql(desc = "1–200 characters, unique in the organization.")] name: String,
    ) -> async_graphql::Result<Employer> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let (row, sites, units) =
            workplaces::rename_employer(db(ctx), &scope, &request_context(ctx), id, &name)
                .await
                .gql()?;
        Ok(Employer {
            row,
            worksites: nest(sites, units),
        })
    }

    /// Rename a worksite, change its address, or move it to another employer (`employerId`;
    /// its units, employment and campaigns go with it). `NOT_FOUND` for another organization's;
    /// `CONFLICT` (reason `TAKEN`) for a name another worksite of the (new) employer has;
    /// `VALIDATION` on `input.employerId` for an employer that is not the organization's.
    async fn update_worksite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The worksite (a UUID).")] id: ID,
        input: UpdateWorksiteInput,
    ) -> async_graphql::Result<Worksite> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let address = match input.address {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(address) => Some(Some(address)),
        };
        let employer_id = input
            .employer_id
            .as_ref()
            .map(|id| parse_uuid("input.employerId", id))
            .transpose()?;
        let change = WorksiteChange {
            name: input.name,
            address,
            employer_id,
        };
        let (row, units) =
            workplaces::update_worksite(db(ctx), &scope, &request_context(ctx), id, change)
                .await
                .gql()?;
        Ok(nest(vec![row], units).remove(0))
    }

    /// Add a unit to a worksite, maybe within another unit.
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        input: CreateUnitInput,
    ) -> async_graphql::Result<Unit> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewUnit {
            worksite_id: parse_uuid("input.worksiteId", &input.worksite_id)?,
            parent_unit_id: input
                .parent_unit_id
                .as_ref()
                .map(|id| parse_uuid("input.parentUnitId", id))
                .transpose()?,
            name: input.name,
            kind: input.kind.as_str().to_owned(),
        };
        Ok(Unit(
            workplaces::create_unit(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Rename a unit, change its kind, or move it (with the units within it) elsewhere in its
    /// worksite. A unit stays at its worksite. `NOT_FOUND` for a unit of another organization;
    /// `VALIDATION` for a parent at another worksite, a loop (the unit or a unit within it as
    /// its parent) or nesting past 8 deep; `CONFLICT` (reason `TAKEN`) for a name another unit
    /// there has.
    async fn update_unit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unit (a UUID).")] id: ID,
        input: UpdateUnitInput,
    ) -> async_graphql::Result<Unit> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let parent_unit_id = match input.parent_unit_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(parent) => Some(Some(parse_uuid("input.parentUnitId", &parent)?)),
        };
        let change = UnitChange {
            name: input.name,
            kind: input.kind.map(|kind| kind.as_str().to_owned()),
            parent_unit_id,
        };
        Ok(Unit(
            workplaces::update_unit(db(ctx), &scope, &request_context(ctx), id, change)
                .await
                .gql()?,
        ))
    }

    /// Record where a person works now.
    async fn add_employment(
        &self,
        ctx: &Context<'_>,
        input: AddEmploymentInput,
    ) -> async_graphql::Result<Employment> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewEmployment {
            person_id: person_id("input.personId", &input.person_id)?,
            worksite_id: parse_uuid("input.worksiteId", &input.worksite_id)?,
            unit_id: input
                .unit_id
                .as_ref()
                .map(|id| parse_uuid("input.unitId", id))
                .transpose()?,
            job_title: input.job_title,
            shift: input.shift,
            started_on: input.started_on,
        };
        Ok(Employment(
            employment::add(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// End an employment (it stays in the person's history).
    async fn end_employment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The employment (a UUID).")] id: ID,
        #[graphql(desc = "The last day; today when left out.")] ended_on: Option<NaiveDate>,
    ) -> async_graphql::Result<Employment> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        Ok(Employment(
            employment::end(db(ctx), &scope, &request_context(ctx), id, ended_on)
                .await
                .gql()?,
        ))
    }

    /// Start an organizing campaign over worksites or units.
    async fn create_organizing_campaign(
        &self,
        ctx: &Context<'_>,
        input: OrganizingCampaignInput,
    ) -> async_graphql::Result<OrganizingCampaign> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let row = campaigns::create(db(ctx), &scope, &request_context(ctx), input.into_domain()?)
            .await
            .gql()?;
        campaign_object(ctx, &scope, row).await
    }

    /// Change a campaign: its name, goal, scale or what it covers.
    async fn update_organizing_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] id: ID,
        input: OrganizingCampaignInput,
    ) -> async_graphql::Result<OrganizingCampaign> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = campaigns::update(
            db(ctx),
            &scope,
            &request_context(ctx),
            id,
            input.into_domain()?,
        )
        .await
        .gql()?;
        campaign_object(ctx, &scope, row).await
    }

    /// Archive a campaign: it leaves `organizingCampaigns` and takes no more assessments,
    /// cards or leaders (`CONFLICT`); its wall chart and history stay readable.
    async fn archive_organizing_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] id: ID,
    ) -> async_graphql::Result<OrganizingCampaign> {
        archived(ctx, id, true).await
    }

    /// Bring an archived campaign back.
    async fn unarchive_organizing_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] id: ID,
    ) -> async_graphql::Result<OrganizingCampaign> {
        archived(ctx, id, false).await
    }

    /// Assess a worker in a campaign (kept in their history).
    async fn assess_worker(
        &self,
        ctx: &Context<'_>,
        input: AssessWorkerInput,
    ) -> async_graphql::Result<Assessment> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewAssessment {
            campaign_id: parse_uuid("input.campaignId", &input.campaign_id)?,
            person_id: person_id("input.personId", &input.person_id)?,
            level: input.level,
            note: input.note,
        };
        Ok(Assessment(
            standing::assess(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Record the day a worker signed a union card, or clear it with `signedOn: null`.
    async fn record_card_signed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] campaign_id: ID,
        #[graphql(desc = "The worker (global ID).")] person_id: ID,
        #[graphql(desc = "The day it was signed; null clears it.")] signed_on: Option<NaiveDate>,
    ) -> async_graphql::Result<CampaignStanding> {
        signature(ctx, campaign_id, person_id, Document::Card, signed_on).await
    }

    /// Record the day a worker signed the petition, or clear it with `signedOn: null`.
    async fn record_petition_signed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] campaign_id: ID,
        #[graphql(desc = "The worker (global ID).")] person_id: ID,
        #[graphql(desc = "The day it was signed; null clears it.")] signed_on: Option<NaiveDate>,
    ) -> async_graphql::Result<CampaignStanding> {
        signature(ctx, campaign_id, person_id, Document::Petition, signed_on).await
    }

    /// Mark a worker as a leader in a campaign (on the organizing committee), or unmark them.
    async fn set_campaign_leader(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign (a UUID).")] campaign_id: ID,
        #[graphql(desc = "The worker (global ID).")] person_id: ID,
        leader: bool,
    ) -> async_graphql::Result<CampaignStanding> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let campaign = parse_uuid("campaignId", &campaign_id)?;
        let person = decode_id_of("personId", NodeType::Person, &person_id)?;
        Ok(CampaignStanding(
            standing::set_leader(
                db(ctx),
                &scope,
                &request_context(ctx),
                campaign,
                person,
                leader,
            )
            .await
            .gql()?,
        ))
    }

    /// Record a relationship between two people.
    async fn add_relationship(
        &self,
        ctx: &Context<'_>,
        input: AddRelationshipInput,
    ) -> async_graphql::Result<Relationship> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewRelationship {
            from_person_id: person_id("input.fromPersonId", &input.from_person_id)?,
            to_person_id: person_id("input.toPersonId", &input.to_person_id)?,
            kind: input.kind.as_str().to_owned(),
            note: input.note,
        };
        Ok(Relationship(
            relationships::add(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Remove a relationship.
    async fn remove_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relationship (a UUID).")] id: ID,
    ) -> async_graphql::Result<Relationship> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let id = parse_uuid("id", &id)?;
        Ok(Relationship(
            relationships::remove(db(ctx), &scope, &request_context(ctx), id)
                .await
                .gql()?,
        ))
    }

    /// Log a one-on-one: it becomes a note in the worker's history, and its assessment after
    /// (with a campaign) an assessment in the campaign, all at once.
    async fn log_one_on_one(
        &self,
        ctx: &Context<'_>,
        input: LogOneOnOneInput,
    ) -> async_graphql::Result<OneOnOne> {
        let scope = can::<perm::OrganizingWrite>(ctx)?;
        let new = NewOneOnOne {
            person_id: person_id("input.personId", &input.person_id)?,
            organizer_person_id: input
                .organizer_person_id
                .as_ref()
                .map(|id| person_id("input.organizerPersonId", id))
                .transpose()?,
            campaign_id: input
                .campaign_id
                .as_ref()
                .map(|id| parse_uuid("input.campaignId", id))
                .transpose()?,
            summary: input.summary,
            issue: input.issue,
            assessment_after: input.assessment_after,
            next_step: input.next_step,
            occurred_at: input.occurred_at,
        };
        let logged = one_on_ones::log(db(ctx), &scope, &request_context(ctx), new)
            .await
            .gql()?;
        Ok(OneOnOne(std::sync::Arc::new(logged)))
    }
}

async fn campaign_object(
    ctx: &Context<'_>,
    scope: &OrgScope,
    row: organizing_campaigns::Model,
) -> async_graphql::Result<OrganizingCampaign> {
    campaign_objects(ctx, scope, vec![row])
        .await?
        .pop()
        .ok_or_else(|| crate::error::invalid("id", "is not a campaign here"))
}

async fn signature(
    ctx: &Context<'_>,
    campaign_id: ID,
    person_id: ID,
    document: Document,
    signed_on: Option<NaiveDate>,
) -> async_graphql::Result<CampaignStanding> {
    let scope = can::<perm::OrganizingWrite>(ctx)?;
    let campaign = parse_uuid("campaignId", &campaign_id)?;
    let person = decode_id_of("personId", NodeType::Person, &person_id)?;
    Ok(CampaignStanding(
        standing::record_signature(
            db(ctx),
            &scope,
            &request_context(ctx),
            campaign,
            person,
            document,
            signed_on,
        )
        .await
        .gql()?,
    ))
}

async fn archived(
    ctx: &Context<'_>,
    id: ID,
    archived: bool,
) -> async_graphql::Result<OrganizingCampaign> {
    let scope = can::<perm::OrganizingWrite>(ctx)?;
    let id = parse_uuid("id", &id)?;
    let row = campaigns::set_archived(db(ctx), &scope, &request_context(ctx), id, archived)
        .await
        .gql()?;
    campaign_object(ctx, &scope, row).await
}
