//! Effects on the automation's own state: its key-value space, scheduled follow-ups and calls
//! of integrator webhooks (recorded here, delivered by the workers).

use chrono::{Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use turnout_entity::{outbound_webhook_calls, plugin_kv, scheduled_follow_ups};
use uuid::Uuid;

use super::{ApplyCtx, bounded};
use crate::error::{DomainError, DomainResult};

/// Longest delay of a follow-up.
const MAX_FOLLOW_UP_DELAY_SECS: u64 = 90 * 24 * 3600;

pub(super) async fn kv_set(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    key: &str,
    value: Option<&str>,
) -> DomainResult<()> {
    let key = bounded("key", key, 200)?;
    match value {
        None => {
            plugin_kv::Entity::delete_many()
                .filter(plugin_kv::Column::OrganizationId.eq(ctx.scope.org_id()))
                .filter(plugin_kv::Column::Namespace.eq(ctx.namespace))
                .filter(plugin_kv::Column::Key.eq(&key))
                .exec(tx)
                .await?;
        }
        Some(v) => {
            if v.len() > 64 * 1024 {
                return Err(DomainError::validation("value", "must be at most 64 KiB"));
            }
            plugin_kv::Entity::insert(plugin_kv::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(ctx.scope.org_id()),
                namespace: Set(ctx.namespace.to_owned()),
                key: Set(key),
                value: Set(v.to_owned()),
                updated_at: Set(Utc::now()),
            })
            .on_conflict(
                OnConflict::columns([
                    plugin_kv::Column::OrganizationId,
                    plugin_kv::Column::Namespace,
                    plugin_kv::Column::Key,
                ])
                .update_columns([plugin_kv::Column::Value, plugin_kv::Column::UpdatedAt])
                .to_owned(),
            )
            .exec_without_returning(tx)
            .await?;
        }
    }
    Ok(())
}

pub(super) async fn schedule_follow_up(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    kind: &str,
    subject_id: Uuid,
    delay_seconds: u64,
    payload: &serde_json::Value,
) -> DomainResult<()> {
    let kind = bounded("kind", kind, 100)?;
    if !kind.starts_with("followup.") {
        return Err(DomainError::validation(
            "kind",
            "must start with `followup.`",
        ));
    }
    if delay_seconds > MAX_FOLLOW_UP_DELAY_SECS {
        return Err(DomainError::validation(
            "delay_seconds",
            "must be at most 90 days",
        ));
    }
    let delay = Duration::seconds(i64::try_from(delay_seconds).unwrap_or(i64::MAX / 1000));
    scheduled_follow_ups::Entity::insert(scheduled_follow_ups::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(ctx.scope.org_id()),
        automation_id: Set(Some(ctx.automation.id)),
        causation_id: Set(Some(ctx.event.id)),
        kind: Set(kind),
        subject_id: Set(subject_id),
        payload: Set(payload.clone()),
        // The depth of the event it will become.
        depth: Set(ctx.cause.depth + 1),
        run_at: Set(ctx.event.occurred_at + delay),
        fired_event_id: Set(None),
        fired_at: Set(None),
        idempotency_key: Set(ctx.idempotency_key("follow-up")),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([scheduled_follow_ups::Column::IdempotencyKey])
    .exec_without_returning(tx)
    .await?;
    Ok(())
}

pub(super) async fn call_webhook(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    webhook: &str,
    body: &serde_json::Value,
) -> DomainResult<()> {
    let webhook = bounded("webhook", webhook, 100)?;
    outbound_webhook_calls::Entity::insert(outbound_webhook_calls::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(ctx.scope.org_id()),
        automation_id: Set(Some(ctx.automation.id)),
        event_id: Set(Some(ctx.event.id)),
        webhook: Set(webhook),
        body: Set(body.clone()),
        status: Set("pending".into()),
        attempts: Set(0),
        error: Set(None),
        idempotency_key: Set(ctx.idempotency_key("webhook")),
        created_at: Set(Utc::now()),
        delivered_at: Set(None),
    })
    .on_conflict_do_nothing_on([outbound_webhook_calls::Column::IdempotencyKey])
    .exec_without_returning(tx)
    .await?;
    Ok(())
}
