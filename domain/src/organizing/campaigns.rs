//! Organizing campaigns ("Warehouse 12 card drive"): what they cover (worksites, or units and
//! the units within them), their goal (the share of workers signed), and their assessment
//! scale, numbered 1–5 with a label and a colour per level.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use turnout_entity::{campaign_targets, organizing_campaigns, units, worksites};
use uuid::Uuid;

use super::workplaces::with_descendants;
use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::values::required_text;

/// One level of a campaign's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleLevel {
    pub level: i16,
    pub label: String,
    /// `#rrggbb`.
    pub color: String,
}

/// The scale most union organizing uses: 1 is a leader or committed supporter, 5 is opposed.
pub fn default_scale() -> Vec<ScaleLevel> {
    [
        (1, "Leader", "#1a7f37"),
        (2, "Supporter", "#57ab5a"),
        (3, "Undecided", "#bf8700"),
        (4, "Leaning against", "#d1242f"),
        (5, "Opposed", "#82071e"),
    ]
    .into_iter()
    .map(|(level, label, color)| ScaleLevel {
        level,
        label: label.into(),
        color: color.into(),
    })
    .collect()
}

/// The scale stored with a campaign (the default if the stored JSON were ever unreadable).
pub fn scale_of(campaign: &organizing_campaigns::Model) -> Vec<ScaleLevel> {
    serde_json::from_value(campaign.scale.clone()).unwrap_or_else(|_| default_scale())
}

/// A label and colour for one level; levels are the list's positions, 1 to 5.
#[derive(Clone, Debug)]
pub struct LevelLabel {
    pub label: String,
    pub color: String,
}

#[derive(Default)]
pub struct CampaignInput {
    pub name: Option<String>,
    /// 1–100: the share of covered workers signed that wins.
    pub goal_percent: Option<i32>,
    pub worksite_ids: Option<Vec<Uuid>>,
    pub unit_ids: Option<Vec<Uuid>>,
    /// Exactly five, for levels 1 to 5.
    pub scale: Option<Vec<LevelLabel>>,
}

fn valid_scale(problems: &mut Problems, labels: &[LevelLabel]) -> Option<Vec<ScaleLevel>> {
    if labels.len() != 5 {
        problems.add(
            "input.scale",
            Reason::Invalid,
            "must have five levels, for 1 to 5",
        );
        return None;
    }
    let mut out = Vec::with_capacity(5);
    for (i, l) in labels.iter().enumerate() {
        let label = problems
            .take(required_text(
                &format!("input.scale[{i}].label"),
                Some(&l.label),
                40,
            ))
            .ok()
            .flatten();
        let color = l.color.trim().to_ascii_lowercase();
        let hex = color.len() == 7
            && color.starts_with('#')
            && color[1..].chars().all(|c| c.is_ascii_hexdigit());
        if !hex {
            problems.add(
                &format!("input.scale[{i}].color"),
                Reason::Invalid,
                "must be a colour as #rrggbb",
            );
        }
        if let Some(label) = label {
            out.push(ScaleLevel {
                level: i as i16 + 1,
                label,
                color,
            });
        }
    }
    (out.len() == 5).then_some(out)
}

/// Checks targets belong to the organization (one statement each kind).
async fn valid_targets<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    problems: &mut Problems,
    worksite_ids: &[Uuid],
    unit_ids: &[Uuid],
) -> DomainResult<()> {
    if !worksite_ids.is_empty() {
        let found: HashSet<Uuid> = worksites::Entity::find()
            .filter(worksites::Column::OrganizationId.eq(scope.org_id()))
            .filter(worksites::Column::Id.is_in(worksite_ids.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect();
        for (i, id) in worksite_ids.iter().enumerate() {
            if !found.contains(id) {
                problems.add(
                    &format!("input.worksiteIds[{i}]"),
                    Reason::Invalid,
                    "is not a worksite here",
                );
            }
        }
    }
    if !unit_ids.is_empty() {
        let found: HashSet<Uuid> = units::Entity::find()
            .filter(units::Column::OrganizationId.eq(scope.org_id()))
            .filter(units::Column::Id.is_in(unit_ids.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        for (i, id) in unit_ids.iter().enumerate() {
            if !found.contains(id) {
                problems.add(
                    &format!("input.unitIds[{i}]"),
                    Reason::Invalid,
                    "is not a unit here",
                );
            }
        }
    }
    Ok(())
}

fn dedup(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

fn valid_goal(problems: &mut Problems, goal: i32) {
    if !(1..=100).contains(&goal) {
        problems.add("input.goalPercent", Reason::Invalid, "must be 1–100");
    }
}

/// Starts a campaign. Every refused field is reported at once.
pub async fn create(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    input: CampaignInput,
) -> DomainResult<organizing_campaigns::Model> {
    let mut problems = Problems::new();
    let name = problems.take(required_text("input.name", input.name.as_deref(), 200))?;
    let goal = input.goal_percent.unwrap_or(70);
    valid_goal(&mut problems, goal);
    let scale = match &input.scale {
        Some(labels) => valid_scale(&mut problems, labels),
        None => Some(default_scale()),
    };
    let worksite_ids = dedup(input.worksite_ids.as_deref().unwrap_or_default());
    let unit_ids = dedup(input.unit_ids.as_deref().unwrap_or_default());
    if worksite_ids.is_empty() && unit_ids.is_empty() {
        problems.add(
            "input.worksiteIds",
            Reason::Required,
            "name at least one worksite or unit the campaign covers",
        );
    }
    let tx = db.begin_write().await?;
    valid_targets(&tx, scope, &mut problems, &worksite_ids, &unit_ids).await?;
    problems.finish()?;
    let now = Utc::now();
    let campaign = organizing_campaigns::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name.unwrap_or_default()),
        goal_percent: Set(goal),
        scale: Set(serde_json::to_value(scale.unwrap_or_default()).map_err(DomainError::internal)?),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
    .insert(&tx)
    .await
    .map_err(|e| taken_if_unique(e, "input.name", "a campaign has this name already"))?;
    write_targets(&tx, scope, campaign.id, &worksite_ids, &unit_ids).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "organizing_campaign.create",
        "organizing_campaign",
        Some(campaign.id),
        &["name", "goal_percent", "scale", "worksite_ids", "unit_ids"],
    )
    .await?;
    tx.commit().await?;
    Ok(campaign)
}

/// Changes what is given; targets given replace the old ones.
pub async fn update(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    input: CampaignInput,
) -> DomainResult<organizing_campaigns::Model> {
    let mut problems = Problems::new();
    let name = match input.name.as_deref() {
        Some(name) => problems.take(required_text("input.name", Some(name), 200))?,
        None => None,
    };
    if let Some(goal) = input.goal_percent {
        valid_goal(&mut problems, goal);
    }
    let scale = input
        .scale
        .as_ref()
        .and_then(|labels| valid_scale(&mut problems, labels));
    let tx = db.begin_write().await?;
    let campaign = campaign_in(&tx, scope, id).await?;
    let targets =
        if input.worksite_ids.is_some() || input.unit_ids.is_some() {
            let old = targets_of(&tx, scope, &[id]).await?;
            let worksite_ids =
                dedup(&input.worksite_ids.clone().unwrap_or_else(|| {
                    old.iter().filter_map(|t| t.worksite_id).collect::<Vec<_>>()
                }));
            let unit_ids = dedup(
                &input
                    .unit_ids
                    .clone()
                    .unwrap_or_else(|| old.iter().filter_map(|t| t.unit_id).collect::<Vec<_>>()),
            );
            if worksite_ids.is_empty() && unit_ids.is_empty() {
                problems.add(
                    "input.worksiteIds",
                    Reason::Required,
                    "a campaign covers at least one worksite or unit",
                );
            }
            valid_targets(&tx, scope, &mut problems, &worksite_ids, &unit_ids).await?;
            Some((worksite_ids, unit_ids))
        } else {
            None
        };
    problems.finish()?;
    let mut fields = Vec::new();
    let mut active: organizing_campaigns::ActiveModel = campaign.clone().into();
    if let Some(name) = name {
        active.name = Set(name);
        fields.push("name");
    }
    if let Some(goal) = input.goal_percent {
        active.goal_percent = Set(goal);
        fields.push("goal_percent");
    }
    if let Some(scale) = scale {
        active.scale = Set(serde_json::to_value(scale).map_err(DomainError::internal)?);
        fields.push("scale");
    }
    if let Some((worksite_ids, unit_ids)) = &targets {
        campaign_targets::Entity::delete_many()
            .filter(campaign_targets::Column::CampaignId.eq(id))
            .exec(&tx)
            .await?;
        write_targets(&tx, scope, id, worksite_ids, unit_ids).await?;
        fields.extend(["worksite_ids", "unit_ids"]);
    }
    if fields.is_empty() {
        return Ok(campaign);
    }
    active.updated_at = Set(Utc::now());
    let campaign = active
        .update(&tx)
        .await
        .map_err(|e| taken_if_unique(e, "input.name", "a campaign has this name already"))?;
    audit::record(
        &tx,
        scope,
        ctx,
        "organizing_campaign.update",
        "organizing_campaign",
        Some(id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(campaign)
}

async fn write_targets<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_id: Uuid,
    worksite_ids: &[Uuid],
    unit_ids: &[Uuid],
) -> DomainResult<()> {
    let rows: Vec<campaign_targets::ActiveModel> = worksite_ids
        .iter()
        .map(|w| (Some(*w), None))
        .chain(unit_ids.iter().map(|u| (None, Some(*u))))
        .map(|(worksite_id, unit_id)| campaign_targets::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(scope.org_id()),
            campaign_id: Set(campaign_id),
            worksite_id: Set(worksite_id),
            unit_id: Set(unit_id),
        })
        .collect();
    if !rows.is_empty() {
        campaign_targets::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// The organization's campaigns, newest first (archived ones only when asked).
pub async fn list(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    include_archived: bool,
) -> DomainResult<Vec<organizing_campaigns::Model>> {
    let mut query = organizing_campaigns::Entity::find()
        .filter(organizing_campaigns::Column::OrganizationId.eq(scope.org_id()));
    if !include_archived {
        query = query.filter(organizing_campaigns::Column::ArchivedAt.is_null());
    }
    Ok(query
        .order_by_desc(organizing_campaigns::Column::Id)
        .all(db.conn())
        .await?)
}

/// Archives a campaign (it leaves the list and takes no more assessments, cards or leaders;
/// its wall chart and history stay readable), or brings it back.
pub async fn set_archived(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    id: Uuid,
    archived: bool,
) -> DomainResult<organizing_campaigns::Model> {
    let tx = db.begin_write().await?;
    let campaign = campaign_in(&tx, scope, id).await?;
    let now = Utc::now();
    let mut row: organizing_campaigns::ActiveModel = campaign.into();
    row.archived_at = Set(archived.then_some(now));
    row.updated_at = Set(now);
    let row = row.update(&tx).await?;
    let action = if archived {
        "organizing_campaign.archive"
    } else {
        "organizing_campaign.unarchive"
    };
    audit::record(
        &tx,
        scope,
        ctx,
        action,
        "organizing_campaign",
        Some(id),
        &["archived_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// [`campaign_in`] for a write about a worker: an archived campaign refuses it.
pub(crate) async fn open_campaign_in<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<organizing_campaigns::Model> {
    let campaign = campaign_in(conn, scope, id).await?;
    if campaign.archived_at.is_some() {
        return Err(DomainError::Conflict(
            "the campaign is archived: unarchive it to record assessments, cards or leaders".into(),
        ));
    }
    Ok(campaign)
}

pub async fn get(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    id: Uuid,
) -> DomainResult<organizing_campaigns::Model> {
    campaign_in(db.conn(), scope, id).await
}

pub(crate) async fn campaign_in<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<organizing_campaigns::Model> {
    organizing_campaigns::Entity::find_by_id(id)
        .filter(organizing_campaigns::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("organizing campaign"))
}

/// The targets of these campaigns, in one statement.
pub async fn targets_of<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_ids: &[Uuid],
) -> DomainResult<Vec<campaign_targets::Model>> {
    Ok(campaign_targets::Entity::find()
        .filter(campaign_targets::Column::OrganizationId.eq(scope.org_id()))
        .filter(campaign_targets::Column::CampaignId.is_in(campaign_ids.iter().copied()))
        .all(conn)
        .await?)
}

/// What a campaign covers, resolved: the worksites named, and every unit it covers (those
/// of the named worksites, and the named units with every unit within them).
pub struct Coverage {
    pub worksite_ids: HashSet<Uuid>,
    /// The units of the worksites involved (covered or not), by name.
    pub units: Vec<units::Model>,
    pub covered_units: HashSet<Uuid>,
}

/// Resolves a campaign's coverage in two statements.
pub(crate) async fn coverage<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_id: Uuid,
) -> DomainResult<Coverage> {
    let targets = targets_of(conn, scope, &[campaign_id]).await?;
    let worksite_ids: HashSet<Uuid> = targets.iter().filter_map(|t| t.worksite_id).collect();
    let unit_roots: HashSet<Uuid> = targets.iter().filter_map(|t| t.unit_id).collect();
    // Every unit of the organization's worksites involved: named ones and those of named units.
    let all_units = units::Entity::find()
        .filter(units::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(units::Column::Name)
        .order_by_asc(units::Column::Id)
        .all(conn)
        .await?;
    let mut involved: HashSet<Uuid> = worksite_ids.clone();
    involved.extend(
        all_units
            .iter()
            .filter(|u| unit_roots.contains(&u.id))
            .map(|u| u.worksite_id),
    );
    let units: Vec<units::Model> = all_units
        .into_iter()
        .filter(|u| involved.contains(&u.worksite_id))
        .collect();
    let mut covered = with_descendants(&units, &unit_roots);
    covered.extend(
        units
            .iter()
            .filter(|u| worksite_ids.contains(&u.worksite_id))
            .map(|u| u.id),
    );
    Ok(Coverage {
        worksite_ids,
        units,
        covered_units: covered,
    })
}
