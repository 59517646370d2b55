//! The audit log: every mutation that changes data records who did it (a user, an API key, or
//! the public), what (action, object, the names of the fields it set — never their secret
//! values), when and from where, in the same transaction as the change.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use turnout_entity::audit_log;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::DomainResult;
use crate::people::{Page, PageRequest};

/// Where a request came from.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    pub client_ip: Option<String>,
}

/// One change to record: what was done to which object, and the names of the fields it set.
pub(crate) struct Change<'a> {
    action: &'a str,
    object_type: &'a str,
    object_id: Option<Uuid>,
    fields: &'a [&'a str],
}

impl<'a> Change<'a> {
    pub(crate) fn new(
        action: &'a str,
        object_type: &'a str,
        object_id: Uuid,
        fields: &'a [&'a str],
    ) -> Self {
        Self {
            action,
            object_type,
            object_id: Some(object_id),
            fields,
        }
    }
}

/// Records one change in the caller's transaction.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    ctx: &RequestContext,
    action: &str,
    object_type: &str,
    object_id: Option<Uuid>,
    fields: &[&str],
) -> DomainResult<()> {
    let change = Change {
        action,
        object_type,
        object_id,
        fields,
    };
    record_all(conn, scope, ctx, &[change]).await
}

/// Records several changes of one request in the caller's transaction, in one statement.
pub(crate) async fn record_all<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    ctx: &RequestContext,
    changes: &[Change<'_>],
) -> DomainResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let (user, key) = scope.actor_ids();
    let now = Utc::now();
    let rows = changes.iter().map(|change| audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        actor_user_id: Set(user),
        actor_api_key_id: Set(key),
        action: Set(change.action.to_owned()),
        object_type: Set(change.object_type.to_owned()),
        object_id: Set(change.object_id),
        changes: Set(serde_json::json!({ "fields": change.fields })),
        client_ip: Set(ctx.client_ip.clone()),
        occurred_at: Set(now),
    });
    audit_log::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Filters on the audit log; all given conditions must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    /// The user or API key that made the change.
    pub actor_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The organization's audit log, newest first (admins only).
pub async fn list(
    db: &Db,
    scope: &Can<perm::Admin>,
    filter: &AuditFilter,
    page: PageRequest,
) -> DomainResult<Page<audit_log::Model>> {
    let mut cond = matching(scope, filter);
    if let Some(after) = page.after {
        cond = cond.add(audit_log::Column::Id.lt(after));
    }
    let items = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .limit(page.first + 1)
        .all(db.conn())
        .await?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many entries match `filter` (all pages), in one statement.
pub async fn count(db: &Db, scope: &Can<perm::Admin>, filter: &AuditFilter) -> DomainResult<u64> {
    Ok(audit_log::Entity::find()
        .filter(matching(scope, filter))
        .count(db.conn())
        .await?)
}

fn matching(scope: &Can<perm::Admin>, filter: &AuditFilter) -> Condition {
    let mut cond = Condition::all().add(audit_log::Column::OrganizationId.eq(scope.org_id()));
    if let Some(v) = &filter.action {
        cond = cond.add(audit_log::Column::Action.eq(v.as_str()));
    }
    if let Some(v) = &filter.object_type {
        cond = cond.add(audit_log::Column::ObjectType.eq(v.as_str()));
    }
    if let Some(v) = filter.object_id {
        cond = cond.add(audit_log::Column::ObjectId.eq(v));
    }
    if let Some(v) = filter.actor_id {
        cond = cond.add(
            Condition::any()
                .add(audit_log::Column::ActorUserId.eq(v))
                .add(audit_log::Column::ActorApiKeyId.eq(v)),
        );
    }
    if let Some(v) = filter.since {
        cond = cond.add(audit_log::Column::OccurredAt.gte(v));
    }
    if let Some(v) = filter.until {
        cond = cond.add(audit_log::Column::OccurredAt.lt(v));
    }
    cond
}
