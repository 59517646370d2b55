//! Scheduled follow-ups become domain events when due. The workers' cron calls
//! [`fire_due_follow_ups`]; each due row turns into one `domain_events` row (with the cause and
//! depth recorded when it was scheduled) in the same transaction that marks it fired, so a
//! follow-up fires once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::scheduled_follow_ups;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;
use crate::outbox::{Cause, DomainEvent, record_caused};

/// Fires up to `limit` follow-ups due at `now`; returns the ids of the events recorded.
pub async fn fire_due_follow_ups(
    db: &Db,
    now: DateTime<Utc>,
    limit: u64,
) -> DomainResult<Vec<Uuid>> {
    let tx = db.begin_write().await?;
    let due = scheduled_follow_ups::Entity::find()
        .filter(scheduled_follow_ups::Column::FiredAt.is_null())
        .filter(scheduled_follow_ups::Column::RunAt.lte(now))
        .order_by_asc(scheduled_follow_ups::Column::RunAt)
        .limit(limit)
        .all(&tx)
        .await?;
    let mut fired = Vec::with_capacity(due.len());
    for row in due {
        // Claim the row first: a concurrent firer that got it loses here and skips it.
        let claimed = scheduled_follow_ups::Entity::update_many()
            .col_expr(
                scheduled_follow_ups::Column::FiredAt,
                Expr::value(Some(now)),
            )
            .filter(scheduled_follow_ups::Column::Id.eq(row.id))
            .filter(scheduled_follow_ups::Column::FiredAt.is_null())
            .exec(&tx)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        let scope = OrgScope::system(row.organization_id);
        // The row holds the new event's depth; the cause is one level up.
        let cause = row.causation_id.map(|event_id| Cause {
            event_id,
            depth: row.depth - 1,
        });
        let follow_up = DomainEvent::FollowUp {
            kind: row.kind.clone(),
            person_id: row.subject_id,
            payload: row.payload.as_object().cloned().unwrap_or_default(),
        };
        let event_id = record_caused(&tx, &scope, follow_up, cause).await?;
        scheduled_follow_ups::Entity::update_many()
            .col_expr(
                scheduled_follow_ups::Column::FiredEventId,
                Expr::value(Some(event_id)),
            )
            .filter(scheduled_follow_ups::Column::Id.eq(row.id))
            .exec(&tx)
            .await?;
        fired.push(event_id);
    }
    tx.commit().await?;
    Ok(fired)
}
