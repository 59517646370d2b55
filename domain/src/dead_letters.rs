//! Jobs that failed their last attempt. The workers record them here with their error; an admin
//! lists them and asks for a retry; the workers' relay picks up the request and queues the job
//! again. The API never talks to the job queue itself.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use turnout_entity::dead_letters;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::people::{Page, PageRequest};

/// A job that will not be attempted again unless someone asks.
pub struct NewDeadLetter<'a> {
    pub organization_id: Option<Uuid>,
    pub queue: &'a str,
    pub job: serde_json::Value,
    pub error: &'a str,
    pub attempts: i32,
}

/// Records a dead job (workers only).
pub async fn record(db: &Db, dead: NewDeadLetter<'_>) -> DomainResult<Uuid> {
    let id = Uuid::now_v7();
    dead_letters::ActiveModel {
        id: Set(id),
        organization_id: Set(dead.organization_id),
        queue: Set(dead.queue.to_owned()),
        job: Set(dead.job),
        error: Set(truncate(dead.error, 4000)),
        attempts: Set(dead.attempts),
        failed_at: Set(Utc::now()),
        retry_requested_at: Set(None),
        retried_at: Set(None),
    }
    .insert(db.conn())
    .await?;
    Ok(id)
}

/// The organization's dead jobs, newest first (admins only).
pub async fn list(
    db: &Db,
    scope: &Can<perm::Admin>,
    page: PageRequest,
) -> DomainResult<Page<dead_letters::Model>> {
    let mut query = dead_letters::Entity::find()
        .filter(dead_letters::Column::OrganizationId.eq(scope.org_id()))
        .order_by_desc(dead_letters::Column::Id)
        .limit(page.first + 1);
    if let Some(after) = page.after {
        query = query.filter(dead_letters::Column::Id.lt(after));
    }
    let items = query.all(db.conn()).await?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many dead letters the organization has, in one statement.
pub async fn count(db: &Db, scope: &Can<perm::Admin>) -> DomainResult<u64> {
    Ok(dead_letters::Entity::find()
        .filter(dead_letters::Column::OrganizationId.eq(scope.org_id()))
        .count(db.conn())
        .await?)
}

/// Asks the workers to queue a dead job again. Asking twice before they do is harmless.
pub async fn request_retry(
    db: &Db,
    scope: &Can<perm::Admin>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<dead_letters::Model> {
    let tx = db.begin_write().await?;
    let dead = dead_letters::Entity::find_by_id(id)
        .filter(dead_letters::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("dead letter"))?;
    if dead.retried_at.is_some() {
        return Err(DomainError::Conflict(
            "this job was already queued again".into(),
        ));
    }
    let mut active: dead_letters::ActiveModel = dead.into();
    active.retry_requested_at = Set(Some(Utc::now()));
    let dead = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "dead_letter.retry",
        "dead_letter",
        Some(id),
        &["retry_requested_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(dead)
}

/// Retry requests not yet acted on (workers only).
pub async fn pending_retries(db: &Db, limit: u64) -> DomainResult<Vec<dead_letters::Model>> {
    Ok(dead_letters::Entity::find()
        .filter(dead_letters::Column::RetryRequestedAt.is_not_null())
        .filter(dead_letters::Column::RetriedAt.is_null())
        .order_by_asc(dead_letters::Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// Marks a dead job as queued again (workers only, after the push).
pub async fn mark_retried(db: &Db, id: Uuid) -> DomainResult<()> {
    dead_letters::Entity::update_many()
        .col_expr(dead_letters::Column::RetriedAt, Expr::val(Utc::now()))
        .filter(dead_letters::Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}
