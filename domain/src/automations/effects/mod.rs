//! The effects a plugin run may return, as data, and how each is applied inside the run's
//! transaction. One file per group of tables: people (tags, custom fields, ladder, point
//! person), tasks, shifts (RSVPs), messages, and the automation's own state (key-value entries,
//! follow-ups, webhook calls).

mod messages;
mod people;
mod plugin_state;
mod shifts;
mod tasks;

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use turnout_entity::{automations, domain_events, people as people_rows};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::{DomainError, DomainResult};
use crate::outbox::Cause;

/// What a message says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Template {
        name: String,
        language: String,
        variables: serde_json::Value,
    },
    Text {
        text: String,
    },
}

/// A change a plugin asks for (the JSON shape the plugin host reports, `type` tagged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    AddTag {
        person_id: Uuid,
        tag: String,
    },
    RemoveTag {
        person_id: Uuid,
        tag: String,
    },
    SetCustomField {
        person_id: Uuid,
        key: String,
        value: Option<String>,
    },
    SetLadderStage {
        person_id: Uuid,
        stage: String,
    },
    SetAssessment {
        person_id: Uuid,
        level: u8,
    },
    AssignPointPerson {
        person_id: Uuid,
        point_person_id: Uuid,
    },
    SendMessage {
        person_id: Uuid,
        channel: String,
        body: MessageBody,
    },
    CreateTask {
        assignee_id: Option<Uuid>,
        about_person_id: Option<Uuid>,
        title: String,
        description: String,
        due_in_seconds: Option<u64>,
    },
    RsvpShift {
        person_id: Uuid,
        shift_id: Uuid,
    },
    ScheduleFollowUp {
        kind: String,
        subject_id: Uuid,
        delay_seconds: u64,
        payload: serde_json::Value,
    },
    CallWebhook {
        webhook: String,
        body: serde_json::Value,
    },
    KvSet {
        key: String,
        value: Option<String>,
    },
}

impl Effect {
    /// The capability (contract name) the effect needs.
    pub fn capability(&self) -> &'static str {
        match self {
            Effect::AddTag { .. } | Effect::RemoveTag { .. } => "write-tags",
            Effect::SetCustomField { .. } => "write-custom-fields",
            Effect::SetLadderStage { .. } | Effect::SetAssessment { .. } => "write-ladder",
            Effect::AssignPointPerson { .. } => "assign-point-person",
            Effect::SendMessage { .. } => "send-messages",
            Effect::CreateTask { .. } => "create-tasks",
            Effect::RsvpShift { .. } => "rsvp-shifts",
            Effect::ScheduleFollowUp { .. } => "schedule-follow-ups",
            Effect::CallWebhook { .. } => "call-webhooks",
            Effect::KvSet { .. } => "write-kv",
        }
    }

    /// The effect's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::AddTag { .. } => "add_tag",
            Effect::RemoveTag { .. } => "remove_tag",
            Effect::SetCustomField { .. } => "set_custom_field",
            Effect::SetLadderStage { .. } => "set_ladder_stage",
            Effect::SetAssessment { .. } => "set_assessment",
            Effect::AssignPointPerson { .. } => "assign_point_person",
            Effect::SendMessage { .. } => "send_message",
            Effect::CreateTask { .. } => "create_task",
            Effect::RsvpShift { .. } => "rsvp_shift",
            Effect::ScheduleFollowUp { .. } => "schedule_follow_up",
            Effect::CallWebhook { .. } => "call_webhook",
            Effect::KvSet { .. } => "kv_set",
        }
    }

    /// Whether applying it records a domain event (now or, for follow-ups, later), which then
    /// counts against the causation depth.
    pub fn emits_event(&self) -> bool {
        !matches!(self, Effect::KvSet { .. } | Effect::CallWebhook { .. })
    }
}

/// Everything an effect needs to know about its run.
pub(crate) struct ApplyCtx<'a> {
    pub scope: &'a OrgScope,
    pub event: &'a domain_events::Model,
    pub automation: &'a automations::Model,
    /// The plugin's key-value namespace (its name).
    pub namespace: &'a str,
    /// The cause of events the effects record (they get its depth + 1).
    pub cause: Cause,
    /// The effect's position in the run (part of idempotency keys).
    pub index: usize,
}

impl ApplyCtx<'_> {
    /// A key unique to this effect of this run: (event, automation, index).
    pub fn idempotency_key(&self, what: &str) -> String {
        format!(
            "automation:{}:{}:{}:{what}",
            self.event.id, self.automation.id, self.index
        )
    }
}

/// Applies one effect in the run's transaction. Errors other than `Internal` reject the run.
pub(crate) async fn apply(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    effect: &Effect,
) -> DomainResult<()> {
    match effect {
        Effect::AddTag { person_id, tag } => people::add_tag(tx, ctx, *person_id, tag).await,
        Effect::RemoveTag { person_id, tag } => people::remove_tag(tx, ctx, *person_id, tag).await,
        Effect::SetCustomField {
            person_id,
            key,
            value,
        } => people::set_custom_field(tx, ctx, *person_id, key, value.as_deref()).await,
        Effect::SetLadderStage { person_id, stage } => {
            people::set_ladder_stage(tx, ctx, *person_id, stage).await
        }
        Effect::SetAssessment { person_id, level } => {
            people::set_assessment(tx, ctx, *person_id, *level).await
        }
        Effect::AssignPointPerson {
            person_id,
            point_person_id,
        } => people::assign_point_person(tx, ctx, *person_id, *point_person_id).await,
        Effect::SendMessage {
            person_id,
            channel,
            body,
        } => messages::send(tx, ctx, *person_id, channel, body).await,
        Effect::CreateTask {
            assignee_id,
            about_person_id,
            title,
            description,
            due_in_seconds,
        } => {
            tasks::create(
                tx,
                ctx,
                *assignee_id,
                *about_person_id,
                title,
                description,
                *due_in_seconds,
            )
            .await
        }
        Effect::RsvpShift {
            person_id,
            shift_id,
        } => shifts::rsvp(tx, ctx, *person_id, *shift_id).await,
        Effect::ScheduleFollowUp {
            kind,
            subject_id,
            delay_seconds,
            payload,
        } => {
            plugin_state::schedule_follow_up(tx, ctx, kind, *subject_id, *delay_seconds, payload)
                .await
        }
        Effect::CallWebhook { webhook, body } => {
            plugin_state::call_webhook(tx, ctx, webhook, body).await
        }
        Effect::KvSet { key, value } => plugin_state::kv_set(tx, ctx, key, value.as_deref()).await,
    }
}

/// The person, if they are in the run's organization (and not archived).
pub(crate) async fn person_in_org(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
) -> DomainResult<people_rows::Model> {
    people_rows::Entity::find_by_id(person_id)
        .filter(people_rows::Column::OrganizationId.eq(ctx.scope.org_id()))
        .filter(people_rows::Column::ArchivedAt.is_null())
        .one(tx)
        .await?
        .ok_or_else(|| {
            DomainError::validation(
                "person_id",
                format!("no person {person_id} in this organization"),
            )
        })
}

/// Whether a user is a member of the run's organization (point people, task assignees).
pub(crate) async fn is_member(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    user_id: Uuid,
) -> DomainResult<bool> {
    Ok(turnout_entity::memberships::Entity::find()
        .filter(turnout_entity::memberships::Column::OrganizationId.eq(ctx.scope.org_id()))
        .filter(turnout_entity::memberships::Column::UserId.eq(user_id))
        .one(tx)
        .await?
        .is_some())
}

/// Records an event caused by this run.
pub(crate) async fn emit(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    event: crate::outbox::DomainEvent,
) -> DomainResult<Uuid> {
    crate::outbox::record_by_automation(tx, ctx.scope, event, ctx.cause, ctx.automation.id).await
}

pub(crate) fn bounded(field: &str, value: &str, max: usize) -> DomainResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(v.to_owned())
}
