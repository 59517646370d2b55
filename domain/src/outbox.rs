//! The transactional outbox: everything that happens is a `domain_events` row, written in the
//! same transaction as the change it describes. The workers' relay turns committed rows into
//! jobs; nothing here talks to a queue.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use turnout_entity::domain_events;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::DomainResult;

/// The kinds of domain events, as stored and as matched by automations and webhooks.
pub mod kinds {
    pub const PERSON_SIGNED_UP: &str = "person.signed_up";
    // Emitted by automation effects (with the triggering event as causation).
    pub const PERSON_TAG_ADDED: &str = "person.tag_added";
    pub const PERSON_TAG_REMOVED: &str = "person.tag_removed";
    pub const PERSON_CUSTOM_FIELD_SET: &str = "person.custom_field_set";
    pub const PERSON_LADDER_STAGE_CHANGED: &str = "person.ladder_stage_changed";
    pub const PERSON_ASSESSED: &str = "person.assessed";
    pub const PERSON_POINT_PERSON_ASSIGNED: &str = "person.point_person_assigned";
    pub const TASK_CREATED: &str = "task.created";
    pub const SHIFT_RSVPED: &str = "shift.rsvped";
    pub const MESSAGE_QUEUED: &str = "message.queued";
}

/// Records an event about `subject` in the caller's transaction.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    kind: &str,
    subject_type: &str,
    subject_id: Uuid,
    payload: serde_json::Value,
) -> DomainResult<Uuid> {
    record_caused(conn, scope, kind, subject_type, subject_id, payload, None).await
}

/// What caused an event: the event whose automation's effect led to it, and the depth of the
/// new event in the causation chain (the cause's depth + 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Causation {
    pub event_id: Uuid,
    pub depth: i32,
}

/// Records an event caused by another (an automation's effect), with its causation and depth.
pub async fn record_caused<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    kind: &str,
    subject_type: &str,
    subject_id: Uuid,
    payload: serde_json::Value,
    causation: Option<Causation>,
) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    domain_events::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        kind: Set(kind.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(subject_id),
        payload: Set(payload),
        occurred_at: Set(Utc::now()),
        causation_id: Set(causation.map(|c| c.event_id)),
        depth: Set(causation.map_or(0, |c| c.depth)),
        dispatched_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
