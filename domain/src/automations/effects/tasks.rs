//! Effects on tasks: create one.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};
use turnout_entity::tasks;
use uuid::Uuid;

use super::{ApplyCtx, bounded, emit, is_member, person_in_org};
use crate::error::{DomainError, DomainResult};

pub(super) async fn create(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    assignee: Option<Uuid>,
    about: Option<Uuid>,
    title: &str,
    description: &str,
    due_in_seconds: Option<u64>,
) -> DomainResult<()> {
    let title = bounded("title", title, 200)?;
    if let Some(p) = about {
        person_in_org(tx, ctx, p).await?;
    }
    if let Some(u) = assignee
        && !is_member(tx, ctx, u).await?
    {
        return Err(DomainError::validation(
            "assignee_id",
            format!("{u} is not a user of this organization"),
        ));
    }
    let due_at = due_in_seconds
        .map(|s| {
            i64::try_from(s)
                .ok()
                .and_then(Duration::try_seconds)
                .and_then(|d| ctx.event.occurred_at.checked_add_signed(d))
                .ok_or_else(|| DomainError::validation("due_in_seconds", "is too far away"))
        })
        .transpose()?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    tasks::ActiveModel {
        id: Set(id),
        organization_id: Set(ctx.scope.org_id()),
        person_id: Set(about),
        assignee_user_id: Set(assignee),
        created_by_user_id: Set(None),
        title: Set(title.clone()),
        description: Set(Some(description.to_owned()).filter(|d| !d.trim().is_empty())),
        due_at: Set(due_at),
        status: Set("open".into()),
        completed_at: Set(None),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await?;
    emit(
        tx,
        ctx,
        crate::outbox::DomainEvent::TaskCreated {
            task_id: id,
            person_id: about,
            assignee_user_id: assignee,
            title: title.clone(),
        },
    )
    .await?;
    Ok(())
}
