//! One-on-ones: the organizing conversation, logged as a note (kind `one_on_one`, so it is in
//! the person's contact history and their last contact) with its detail: who talked with the
//! worker (a staff user, and maybe a worker-leader), the issue raised, the assessment after
//! (recorded in the campaign as well, in the same transaction) and the next step.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::{notes, one_on_ones};
use uuid::Uuid;

use super::standing::{NewAssessment, assess_in};
use super::visible_person;
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::notes::{self as note_service, NewNote};
use crate::values::optional_text;

pub struct NewOneOnOne {
    /// The worker talked with.
    pub person_id: Uuid,
    /// A worker-leader who held (or joined) the conversation.
    pub organizer_person_id: Option<Uuid>,
    /// The campaign it was part of; needed for `assessment_after`.
    pub campaign_id: Option<Uuid>,
    /// What was said (the note's body).
    pub summary: String,
    /// The issue the worker raised (pay, scheduling, safety …).
    pub issue: Option<String>,
    /// 1–5: where the worker stands after the conversation.
    pub assessment_after: Option<i32>,
    /// The next step agreed.
    pub next_step: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A one-on-one with its note.
pub struct OneOnOne {
    pub detail: one_on_ones::Model,
    pub note: notes::Model,
}

pub async fn log(
    db: &Db,
    scope: &Can<perm::OrganizingWrite>,
    ctx: &RequestContext,
    new: NewOneOnOne,
) -> DomainResult<OneOnOne> {
    let mut problems = Problems::new();
    let summary = new.summary.trim().to_owned();
    if summary.is_empty() || summary.chars().count() > 10_000 {
        problems.add(
            "input.summary",
            if summary.is_empty() {
                Reason::Required
            } else {
                Reason::TooLong
            },
            "must be 1–10000 characters",
        );
    }
    let now = Utc::now();
    if new
        .occurred_at
        .is_some_and(|at| at > now + chrono::Duration::minutes(5))
    {
        problems.add("input.occurredAt", Reason::Invalid, "is in the future");
    }
    let issue = problems.take(optional_text("input.issue", new.issue.as_deref(), 500))?;
    let next_step = problems.take(optional_text(
        "input.nextStep",
        new.next_step.as_deref(),
        500,
    ))?;
    if let Some(level) = new.assessment_after {
        if !(1..=5).contains(&level) {
            problems.add("input.assessmentAfter", Reason::Invalid, "must be 1–5");
        }
        if new.campaign_id.is_none() {
            problems.add(
                "input.campaignId",
                Reason::Required,
                "is needed to record an assessment after",
            );
        }
    }
    if new.organizer_person_id == Some(new.person_id) {
        problems.add(
            "input.organizerPersonId",
            Reason::Invalid,
            "is the worker talked with",
        );
    }
    problems.finish()?;
    let note_input = NewNote {
        person_id: new.person_id,
        kind: note_service::ONE_ON_ONE.to_owned(),
        outcome: None,
        body: summary.clone(),
        occurred_at: new.occurred_at,
    };
    let tx = db.begin_write().await?;
    visible_person(&tx, scope, "input.personId", new.person_id).await?;
    if let Some(organizer) = new.organizer_person_id {
        visible_person(&tx, scope, "input.organizerPersonId", organizer).await?;
    }
    if let Some(campaign) = new.campaign_id {
        super::campaigns::campaign_in(&tx, scope, campaign)
            .await
            .map_err(|_| DomainError::validation("input.campaignId", "is not a campaign here"))?;
    }
    let note = note_service::insert_in(&tx, scope, ctx, note_input, summary, None, now).await?;
    if let (Some(campaign_id), Some(level)) = (new.campaign_id, new.assessment_after) {
        let assessment = NewAssessment {
            campaign_id,
            person_id: new.person_id,
            level,
            note: Some("after a one-on-one".to_owned()),
        };
        assess_in(&tx, scope, &assessment).await?;
    }
    let (user, _) = scope.actor_ids();
    let detail = one_on_ones::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        note_id: Set(note.id),
        person_id: Set(new.person_id),
        organizer_user_id: Set(user),
        organizer_person_id: Set(new.organizer_person_id),
        campaign_id: Set(new.campaign_id),
        issue: Set(issue.flatten()),
        assessment_after: Set(new.assessment_after.map(|l| l as i16)),
        next_step: Set(next_step.flatten()),
        occurred_at: Set(note.occurred_at),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "one_on_one.log",
        "one_on_one",
        Some(detail.id),
        &[
            "person_id",
            "organizer_person_id",
            "campaign_id",
            "issue",
            "assessment_after",
            "next_step",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(OneOnOne { detail, note })
}

/// The one-on-ones of each of `person_ids` (as the worker talked with), newest first, with
/// their notes, in two statements.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::OrganizingRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<OneOnOne>>> {
    let details = one_on_ones::Entity::find()
        .filter(one_on_ones::Column::OrganizationId.eq(scope.org_id()))
        .filter(one_on_ones::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_desc(one_on_ones::Column::OccurredAt)
        .order_by_desc(one_on_ones::Column::Id)
        .all(db.conn())
        .await?;
    let mut notes: HashMap<Uuid, notes::Model> = notes::Entity::find()
        .filter(notes::Column::OrganizationId.eq(scope.org_id()))
        .filter(notes::Column::Id.is_in(details.iter().map(|d| d.note_id)))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let mut by_person: HashMap<Uuid, Vec<OneOnOne>> = HashMap::new();
    for detail in details {
        if let Some(note) = notes.remove(&detail.note_id) {
            by_person
                .entry(detail.person_id)
                .or_default()
                .push(OneOnOne { detail, note });
        }
    }
    Ok(by_person)
}
