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
    pub const PERSON_MERGED: &str = "person.merged";
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
    let id = Uuid::now_v7();
    domain_events::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        kind: Set(kind.to_owned()),
        subject_type: Set(subject_type.to_owned()),
        subject_id: Set(subject_id),
        payload: Set(payload),
        occurred_at: Set(Utc::now()),
        causation_id: Set(None),
        depth: Set(0),
        dispatched_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}
