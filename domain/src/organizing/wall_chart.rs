//! The wall chart of a campaign (every covered unit with every worker in it: assessment, leader,
//! point person, last contact, card) and its structure tests (the count at each level, % signed,
//! % assessed 1–2, leaders per worker, units without a leader, the goal), overall, per unit and
//! week by week.
//!
//! A chart is read in a constant number of statements however many units and workers it has,
//! and every read is audited: it is the map an employer must never see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::{
    assessments, campaign_people, employments, notes, organizing_campaigns, people, units,
    worksites,
};
use uuid::Uuid;

use super::campaigns::{campaign_in, coverage};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::DomainResult;
use crate::people::visible;

/// One worker on the chart.
#[derive(Clone, Debug)]
pub struct Worker {
    pub person: people::Model,
    pub employment: employments::Model,
    /// The worker's standing in the campaign; `None` when never assessed or marked.
    pub standing: Option<campaign_people::Model>,
    /// Their latest note (call, one-on-one …).
    pub last_contact_at: Option<DateTime<Utc>>,
}

impl Worker {
    pub fn level(&self) -> Option<i16> {
        self.standing.as_ref().and_then(|s| s.level)
    }
    pub fn leader(&self) -> bool {
        self.standing.as_ref().is_some_and(|s| s.leader)
    }
    pub fn signed(&self) -> bool {
        self.standing
            .as_ref()
            .is_some_and(|s| s.card_signed_on.is_some())
    }
}

/// One column of the chart: a covered unit, or the workers of a covered worksite who are in no
/// unit (`unit: None`).
#[derive(Clone, Debug)]
pub struct Column {
    pub worksite_id: Uuid,
    pub unit: Option<units::Model>,
    pub workers: Vec<Worker>,
}

#[derive(Clone, Debug)]
pub struct WallChart {
    pub campaign: organizing_campaigns::Model,
    pub worksites: Vec<worksites::Model>,
    pub columns: Vec<Column>,
}

/// Reads a campaign's wall chart (audited), in nine statements whatever its size.
pub async fn read(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    ctx: &RequestContext,
    campaign_id: Uuid,
) -> DomainResult<WallChart> {
    let conn = db.conn();
    let campaign = campaign_in(conn, scope, campaign_id).await?;
    let cover = coverage(conn, scope, campaign_id).await?;
    let covered_units: Vec<Uuid> = cover.covered_units.iter().copied().collect();
    let mut worksite_ids: HashSet<Uuid> = cover.worksite_ids.clone();
    worksite_ids.extend(
        cover
            .units
            .iter()
            .filter(|u| cover.covered_units.contains(&u.id))
            .map(|u| u.worksite_id),
    );
    let worksites = worksites::Entity::find()
        .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
        .filter(worksites::Column::Id.is_in(worksite_ids.iter().copied()))
        .order_by_asc(worksites::Column::Name)
        .all(conn)
        .await?;

    // Current jobs in a covered unit, or at a covered worksite.
    let jobs_cond = Condition::all()
        .add(employments::Column::OrganizationId.eq(scope.org_id()))
        .add(employments::Column::EndedOn.is_null())
        .add(
            Condition::any()
                .add(employments::Column::UnitId.is_in(covered_units.iter().copied()))
                .add(employments::Column::WorksiteId.is_in(cover.worksite_ids.iter().copied())),
        );
    let jobs = employments::Entity::find()
        .filter(jobs_cond.clone())
        .order_by_asc(employments::Column::Id)
        .all(conn)
        .await?;
    let workers_of = || {
        Query::select()
            .column(employments::Column::PersonId)
            .from(employments::Entity)
            .cond_where(jobs_cond.clone())
            .to_owned()
    };
    let people: HashMap<Uuid, people::Model> = people::Entity::find()
        .filter(visible(scope))
        .filter(people::Column::ArchivedAt.is_null())
        .filter(people::Column::Id.in_subquery(workers_of()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let standings: HashMap<Uuid, campaign_people::Model> = campaign_people::Entity::find()
        .filter(campaign_people::Column::CampaignId.eq(campaign_id))
        .filter(campaign_people::Column::PersonId.in_subquery(workers_of()))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.person_id, s))
        .collect();
    let contacts: HashMap<Uuid, DateTime<Utc>> = notes::Entity::find()
        .select_only()
        .column(notes::Column::PersonId)
        .column_as(notes::Column::OccurredAt.max(), "last")
        .filter(notes::Column::OrganizationId.eq(scope.org_id()))
        .filter(notes::Column::PersonId.in_subquery(workers_of()))
        .group_by(notes::Column::PersonId)
        .into_tuple::<(Uuid, DateTime<Utc>)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();

    let units_by_id: HashMap<Uuid, &units::Model> = cover.units.iter().map(|u| (u.id, u)).collect();
    // Columns in worksite order, then unit name; the no-unit column of a worksite first.
    let mut columns: Vec<Column> = Vec::new();
    let mut index: HashMap<(Uuid, Option<Uuid>), usize> = HashMap::new();
    for site in &worksites {
        if cover.worksite_ids.contains(&site.id) {
            index.insert((site.id, None), columns.len());
            columns.push(Column {
                worksite_id: site.id,
                unit: None,
                workers: Vec::new(),
            });
        }
        for unit in cover
            .units
            .iter()
            .filter(|u| u.worksite_id == site.id && cover.covered_units.contains(&u.id))
        {
            index.insert((site.id, Some(unit.id)), columns.len());
            columns.push(Column {
                worksite_id: site.id,
                unit: Some(unit.clone()),
                workers: Vec::new(),
            });
        }
    }
    let mut placed: HashSet<(Uuid, usize)> = HashSet::new();
    for job in jobs {
        let Some(person) = people.get(&job.person_id) else {
            continue;
        };
        let key = match job.unit_id {
            Some(unit) if cover.covered_units.contains(&unit) => {
                units_by_id.get(&unit).map(|u| (u.worksite_id, Some(unit)))
            }
            // A job at a covered worksite, in no unit or in a unit the campaign does not name.
            _ => Some((job.worksite_id, None)),
        };
        let Some(&at) = key.and_then(|k| index.get(&k)) else {
            continue;
        };
        // One place per worker per column, even with two jobs there.
        if !placed.insert((person.id, at)) {
            continue;
        }
        columns[at].workers.push(Worker {
            person: person.clone(),
            standing: standings.get(&person.id).cloned(),
            last_contact_at: contacts.get(&person.id).copied(),
            employment: job,
        });
    }
    for column in &mut columns {
        column.workers.sort_by(|a, b| {
            (&a.person.last_name, &a.person.first_name, a.person.id).cmp(&(
                &b.person.last_name,
                &b.person.first_name,
                b.person.id,
            ))
        });
    }
    audit::record(
        conn,
        scope,
        ctx,
        "organizing_campaign.wall_chart_read",
        "organizing_campaign",
        Some(campaign_id),
        &[],
    )
    .await?;
    Ok(WallChart {
        campaign,
        worksites,
        columns,
    })
}

/// The structure counts of a group of workers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    pub workers: u32,
    /// Workers at levels 1 to 5.
    pub levels: [u32; 5],
    pub unassessed: u32,
    pub signed: u32,
    pub leaders: u32,
}

impl Counts {
    /// The counts of one chart column.
    pub fn of(workers: &[Worker]) -> Self {
        let mut counts = Self::default();
        for w in workers {
            counts.add(w.level(), w.signed(), w.leader());
        }
        counts
    }

    fn add(&mut self, level: Option<i16>, signed: bool, leader: bool) {
        self.workers += 1;
        match level {
            Some(l @ 1..=5) => self.levels[(l - 1) as usize] += 1,
            _ => self.unassessed += 1,
        }
        self.signed += u32::from(signed);
        self.leaders += u32::from(leader);
    }

    fn share(&self, n: u32) -> f64 {
        if self.workers == 0 {
            0.0
        } else {
            (f64::from(n) * 1000.0 / f64::from(self.workers)).round() / 10.0
        }
    }

    /// Percent of workers signed, to one decimal.
    pub fn percent_signed(&self) -> f64 {
        self.share(self.signed)
    }

    /// Percent of workers assessed 1 or 2, to one decimal.
    pub fn percent_supporting(&self) -> f64 {
        self.share(self.levels[0] + self.levels[1])
    }

    /// Leaders per worker (0 when there are no workers).
    pub fn leaders_per_worker(&self) -> f64 {
        if self.workers == 0 {
            0.0
        } else {
            f64::from(self.leaders) / f64::from(self.workers)
        }
    }
}

/// A structure test of the whole campaign.
#[derive(Clone, Debug)]
pub struct Structure {
    pub overall: Counts,
    /// Per chart column, in chart order.
    pub columns: Vec<Counts>,
    /// Columns with workers and no leader.
    pub columns_without_leader: Vec<usize>,
    pub goal_percent: i32,
    pub goal_reached: bool,
}

/// The structure test of a chart. A worker in two columns counts once overall.
pub fn structure(chart: &WallChart) -> Structure {
    let mut overall = Counts::default();
    let mut seen = HashSet::new();
    let mut columns = Vec::with_capacity(chart.columns.len());
    for column in &chart.columns {
        for w in column.workers.iter().filter(|w| seen.insert(w.person.id)) {
            overall.add(w.level(), w.signed(), w.leader());
        }
        columns.push(Counts::of(&column.workers));
    }
    let columns_without_leader = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.workers > 0 && c.leaders == 0)
        .map(|(i, _)| i)
        .collect();
    let goal_percent = chart.campaign.goal_percent;
    Structure {
        goal_reached: overall.workers > 0 && overall.percent_signed() >= f64::from(goal_percent),
        overall,
        columns,
        columns_without_leader,
        goal_percent,
    }
}

/// The counts of one week.
#[derive(Clone, Debug, PartialEq)]
pub struct Week {
    /// The Monday the week starts on (UTC).
    pub starting: NaiveDate,
    /// As of the end of that week (or now, for this week).
    pub counts: Counts,
}

/// The chart's workers' counts at the end of each of the last `weeks` weeks (oldest first),
/// from their assessment history: one more statement.
pub async fn weekly(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    chart: &WallChart,
    weeks: u32,
) -> DomainResult<Vec<Week>> {
    let workers: Vec<Uuid> = chart
        .columns
        .iter()
        .flat_map(|c| c.workers.iter().map(|w| w.person.id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let history = assessments::Entity::find()
        .filter(assessments::Column::OrganizationId.eq(scope.org_id()))
        .filter(assessments::Column::CampaignId.eq(chart.campaign.id))
        .filter(assessments::Column::AssessedAt.lte(Utc::now()))
        .order_by_asc(assessments::Column::AssessedAt)
        .order_by_asc(assessments::Column::Id)
        .all(db.conn())
        .await?;
    Ok(series(chart, &workers, &history, weeks, Utc::now()))
}

/// [`weekly`] without the database, for a given `now`.
pub fn series(
    chart: &WallChart,
    workers: &[Uuid],
    history: &[assessments::Model],
    weeks: u32,
    now: DateTime<Utc>,
) -> Vec<Week> {
    let wanted: HashSet<Uuid> = workers.iter().copied().collect();
    let mut by_person: HashMap<Uuid, Vec<&assessments::Model>> = HashMap::new();
    for row in history.iter().filter(|r| wanted.contains(&r.person_id)) {
        by_person.entry(row.person_id).or_default().push(row);
    }
    let mut standing: HashMap<Uuid, &campaign_people::Model> = HashMap::new();
    for column in &chart.columns {
        for w in &column.workers {
            if let Some(s) = &w.standing {
                standing.insert(w.person.id, s);
            }
        }
    }
    let today = now.date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    (0..weeks.clamp(1, 104))
        .rev()
        .map(|back| {
            let starting = this_monday - Duration::weeks(i64::from(back));
            let end = (starting + Duration::weeks(1))
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now)
                .min(now);
            let mut counts = Counts::default();
            for id in &wanted {
                let level = by_person
                    .get(id)
                    .and_then(|rows| rows.iter().rev().find(|r| r.assessed_at < end))
                    .map(|r| r.level);
                let s = standing.get(id);
                let signed = s
                    .and_then(|s| s.card_signed_on)
                    .is_some_and(|d| d < end.date_naive() || (end == now && d <= today));
                counts.add(level, signed, s.is_some_and(|s| s.leader));
            }
            Week { starting, counts }
        })
        .collect()
}
