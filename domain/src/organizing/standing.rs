//! A worker's standing in a campaign: their assessment on its 1–5 scale (every assessment is
//! kept, with who made it, when and a note), whether they signed a card or the petition, and
//! whether they are a leader (on the organizing committee).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use turnout_entity::{assessments, campaign_people, employments};
use uuid::Uuid;

use super::campaigns::{coverage, open_campaign_in};
use super::{level, visible_person};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::values::optional_text;

/// Where a worker sits in a campaign: the covered unit they work in (none when they work at a
/// covered worksite without a unit).
struct Placement {
    worksite_id: Uuid,
    unit_id: Option<Uuid>,
}

/// The person's current employment the campaign covers, or a validation error on `personId`.
async fn placement<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_id: Uuid,
    person_id: Uuid,
) -> DomainResult<Placement> {
    let coverage = coverage(conn, scope, campaign_id).await?;
    let jobs = employments::Entity::find()
        .filter(employments::Column::OrganizationId.eq(scope.org_id()))
        .filter(employments::Column::PersonId.eq(person_id))
        .filter(employments::Column::EndedOn.is_null())
        .order_by_asc(employments::Column::Id)
        .all(conn)
        .await?;
    jobs.iter()
        .find_map(|job| match job.unit_id {
            Some(unit) if coverage.covered_units.contains(&unit) => Some(Placement {
                worksite_id: job.worksite_id,
                unit_id: Some(unit),
            }),
            _ if coverage.worksite_ids.contains(&job.worksite_id) => Some(Placement {
                worksite_id: job.worksite_id,
                unit_id: job.unit_id,
            }),
            _ => None,
        })
        .ok_or_else(|| {
            DomainError::validation(
                "input.personId",
                "does not work at a worksite or unit this campaign covers: add their \
                 employment first",
            )
        })
}

/// Whether anyone working in the placement's unit (or, without a unit, at its worksite with
/// no unit) is a leader in the campaign.
async fn has_leader<C: ConnectionTrait>(
    conn: &C,
    campaign_id: Uuid,
    at: &Placement,
) -> DomainResult<bool> {
    let mut workers = Query::select();
    workers
        .column(employments::Column::PersonId)
        .from(employments::Entity)
        .and_where(employments::Column::EndedOn.is_null());
    match at.unit_id {
        Some(unit) => workers.and_where(employments::Column::UnitId.eq(unit)),
        None => workers
            .and_where(employments::Column::WorksiteId.eq(at.worksite_id))
            .and_where(employments::Column::UnitId.is_null()),
    };
    let leaders = campaign_people::Entity::find()
        .filter(campaign_people::Column::CampaignId.eq(campaign_id))
        .filter(campaign_people::Column::Leader.eq(true))
        .filter(campaign_people::Column::PersonId.in_subquery(workers.to_owned()))
        .count(conn)
        .await?;
    Ok(leaders > 0)
}

/// Writes the standing's changed columns, creating the row on first touch (one statement, safe
/// against a concurrent first touch).
async fn upsert<C: ConnectionTrait>(
    conn: &C,
    row: campaign_people::ActiveModel,
    columns: &[campaign_people::Column],
) -> DomainResult<()> {
    upsert_if(conn, row, columns, None).await
}

/// [`upsert`], updating an existing row only where `condition` holds (it may name the
/// proposed row as `excluded`).
async fn upsert_if<C: ConnectionTrait>(
    conn: &C,
    row: campaign_people::ActiveModel,
    columns: &[campaign_people::Column],
    condition: Option<SimpleExpr>,
) -> DomainResult<()> {
    let mut on_conflict = OnConflict::columns([
        campaign_people::Column::CampaignId,
        campaign_people::Column::PersonId,
    ]);
    on_conflict
        .update_columns(columns.iter().copied())
        .update_column(campaign_people::Column::UpdatedAt);
    if let Some(condition) = condition {
        on_conflict.action_and_where(condition);
    }
    campaign_people::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Checks the campaign, the person and that the campaign covers where they work (for the
/// mutations whose arguments are `campaignId` and `personId`).
async fn covered_worker<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_id: Uuid,
    person_id: Uuid,
) -> DomainResult<Placement> {
    open_campaign_in(conn, scope, campaign_id).await?;
    visible_person(conn, scope, "personId", person_id).await?;
    placement(conn, scope, campaign_id, person_id)
        .await
        .map_err(|_| {
            DomainError::validation(
                "personId",
                "does not work at a worksite or unit this campaign covers",
            )
        })
}

fn blank(scope: &OrgScope, campaign_id: Uuid, person_id: Uuid) -> campaign_people::ActiveModel {
    campaign_people::ActiveModel {
        organization_id: Set(scope.org_id()),
        campaign_id: Set(campaign_id),
        person_id: Set(person_id),
        level: Set(None),
        assessed_at: Set(None),
        card_signed_on: Set(None),
        petition_signed_on: Set(None),
        leader: Set(false),
        updated_at: Set(Utc::now()),
    }
}

pub struct NewAssessment {
    pub campaign_id: Uuid,
    pub person_id: Uuid,
    /// 1–5 on the campaign's scale.
    pub level: i32,
    pub note: Option<String>,
}

/// Assesses a worker in a campaign; the assessment joins their history.
pub async fn assess(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewAssessment,
) -> DomainResult<assessments::Model> {
    let tx = db.begin_write().await?;
    let row = assess_in(&tx, scope, &new).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.campaign_assess",
        "assessment",
        Some(row.id),
        &["campaign_id", "person_id", "level", "note"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// [`assess`] inside the caller's transaction (a one-on-one records the assessment after it).
pub(crate) async fn assess_in<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    new: &NewAssessment,
) -> DomainResult<assessments::Model> {
    let level = level("input.level", new.level)?;
    let note = optional_text("input.note", new.note.as_deref(), 2000)?;
    open_campaign_in(conn, scope, new.campaign_id).await?;
    visible_person(conn, scope, "input.personId", new.person_id).await?;
    let at = placement(conn, scope, new.campaign_id, new.person_id).await?;
    let now = Utc::now();
    let (user, key) = scope.actor_ids();
    let row = assessments::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        campaign_id: Set(new.campaign_id),
        person_id: Set(new.person_id),
        level: Set(level),
        note: Set(note),
        assessed_by_user_id: Set(user),
        assessed_by_api_key_id: Set(key),
        assessed_at: Set(now),
    }
    .insert(conn)
    .await?;
    let mut standing = blank(scope, new.campaign_id, new.person_id);
    standing.level = Set(Some(level));
    standing.assessed_at = Set(Some(now));
    // The standing is the latest assessment, not the last to commit: on PostgreSQL two
    // organizers' assessments may commit in the other order than they were made.
    let assessed_at = Expr::col((campaign_people::Entity, campaign_people::Column::AssessedAt));
    let not_newer = assessed_at
        .clone()
        .is_null()
        .or(assessed_at.lte(Expr::cust("excluded.assessed_at")));
    upsert_if(
        conn,
        standing,
        &[
            campaign_people::Column::Level,
            campaign_people::Column::AssessedAt,
        ],
        Some(not_newer),
    )
    .await?;
    let unit_has_leader = has_leader(conn, new.campaign_id, &at).await?;
    let event = DomainEvent::PersonAssessed {
        person_id: new.person_id,
        level: Some(level.into()),
        campaign_id: Some(new.campaign_id),
        unit_id: at.unit_id,
        unit_has_leader: Some(unit_has_leader),
    };
    outbox::record(conn, scope, event).await?;
    Ok(row)
}

/// What a worker signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// A union authorization card.
    Card,
    Petition,
}

/// Records the day a worker signed a card or the petition, or clears it (`None`).
pub async fn record_signature(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    campaign_id: Uuid,
    person_id: Uuid,
    document: Document,
    signed_on: Option<NaiveDate>,
) -> DomainResult<campaign_people::Model> {
    if signed_on.is_some_and(|d| d > Utc::now().date_naive() + chrono::Days::new(1)) {
        return Err(DomainError::validation("signedOn", "is in the future"));
    }
    let tx = db.begin_write().await?;
    covered_worker(&tx, scope, campaign_id, person_id).await?;
    let mut standing = blank(scope, campaign_id, person_id);
    let (column, event, action) = match document {
        Document::Card => {
            standing.card_signed_on = Set(signed_on);
            (
                campaign_people::Column::CardSignedOn,
                DomainEvent::CardSigned {
                    person_id,
                    campaign_id,
                    signed_on,
                },
                "person.card_signed",
            )
        }
        Document::Petition => {
            standing.petition_signed_on = Set(signed_on);
            (
                campaign_people::Column::PetitionSignedOn,
                DomainEvent::PetitionSigned {
                    person_id,
                    campaign_id,
                    signed_on,
                },
                "person.petition_signed",
            )
        }
    };
    upsert(&tx, standing, &[column]).await?;
    outbox::record(&tx, scope, event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        action,
        "person",
        Some(person_id),
        &["campaign_id", "signed_on"],
    )
    .await?;
    let row = standing_in(&tx, campaign_id, person_id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Marks a worker as a leader in a campaign (on the organizing committee), or unmarks them.
pub async fn set_leader(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    campaign_id: Uuid,
    person_id: Uuid,
    leader: bool,
) -> DomainResult<campaign_people::Model> {
    let tx = db.begin_write().await?;
    covered_worker(&tx, scope, campaign_id, person_id).await?;
    let mut standing = blank(scope, campaign_id, person_id);
    standing.leader = Set(leader);
    upsert(&tx, standing, &[campaign_people::Column::Leader]).await?;
    let event = DomainEvent::CampaignLeaderChanged {
        person_id,
        campaign_id,
        leader,
    };
    outbox::record(&tx, scope, event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.campaign_leader",
        "person",
        Some(person_id),
        &["campaign_id", "leader"],
    )
    .await?;
    let row = standing_in(&tx, campaign_id, person_id).await?;
    tx.commit().await?;
    Ok(row)
}

async fn standing_in<C: ConnectionTrait>(
    conn: &C,
    campaign_id: Uuid,
    person_id: Uuid,
) -> DomainResult<campaign_people::Model> {
    campaign_people::Entity::find_by_id((campaign_id, person_id))
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::internal("the standing just written is gone"))
}

/// The standings of each of `person_ids` in every campaign, in one statement.
/// The standings of `person_ids` in one campaign, by person (one statement).
pub(crate) async fn in_campaign<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    campaign_id: Uuid,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, campaign_people::Model>> {
    Ok(campaign_people::Entity::find()
        .filter(campaign_people::Column::OrganizationId.eq(scope.org_id()))
        .filter(campaign_people::Column::CampaignId.eq(campaign_id))
        .filter(campaign_people::Column::PersonId.is_in(person_ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.person_id, s))
        .collect())
}

pub async fn of_people(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<campaign_people::Model>>> {
    let rows = campaign_people::Entity::find()
        .filter(campaign_people::Column::OrganizationId.eq(scope.org_id()))
        .filter(campaign_people::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_asc(campaign_people::Column::CampaignId)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<campaign_people::Model>> = HashMap::new();
    for row in rows {
        by_person.entry(row.person_id).or_default().push(row);
    }
    Ok(by_person)
}

/// Every assessment of one worker in one campaign, newest first.
pub async fn history(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    campaign_id: Uuid,
    person_id: Uuid,
) -> DomainResult<Vec<assessments::Model>> {
    visible_person(db.conn(), scope, "personId", person_id).await?;
    Ok(assessments::Entity::find()
        .filter(assessments::Column::OrganizationId.eq(scope.org_id()))
        .filter(assessments::Column::CampaignId.eq(campaign_id))
        .filter(assessments::Column::PersonId.eq(person_id))
        .order_by_desc(assessments::Column::AssessedAt)
        .order_by_desc(assessments::Column::Id)
        .all(db.conn())
        .await?)
}
