use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::audit::{self, AuditFilter, RequestContext};
use turnout_domain::auth::{Can, perm};
use turnout_domain::people::PageRequest;
use turnout_entity::audit_log;
use uuid::Uuid;

use super::context::{can, db, principal};
use super::signup::ClientIp;
use crate::error::GqlResult;
use crate::ids::{decode_cursor, encode_cursor};

/// Who made a change.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in user.
    User,
    /// An integrator's API key.
    ApiKey,
    /// The public, through a form or page.
    Public,
}

/// Who made a change: the kind, and the user's or key's id.
#[derive(SimpleObject)]
pub struct AuditActor {
    /// User, API key or the public.
    pub kind: ActorKind,
    /// The id of the user or API key; absent for the public.
    pub id: Option<ID>,
}

/// One recorded change.
pub struct AuditEntry(audit_log::Model);

#[Object]
impl AuditEntry {
    /// The entry's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What was done, e.g. `person.create`, `form.create`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The type of the object changed, e.g. `person`.
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }

    /// The id of the object changed.
    async fn object_id(&self) -> Option<ID> {
        self.0.object_id.map(|id| ID(id.to_string()))
    }

    /// Who made the change.
    async fn actor(&self) -> AuditActor {
        match (self.0.actor_user_id, self.0.actor_api_key_id) {
            (Some(id), _) => AuditActor {
                kind: ActorKind::User,
                id: Some(ID(id.to_string())),
            },
            (None, Some(id)) => AuditActor {
                kind: ActorKind::ApiKey,
                id: Some(ID(id.to_string())),
            },
            (None, None) => AuditActor {
                kind: ActorKind::Public,
                id: None,
            },
        }
    }

    /// What changed: `{"fields": [...]}`, the names of the fields set (never secret values).
    async fn changes(&self) -> Json<serde_json::Value> {
        Json(self.0.changes.clone())
    }

    /// The client's IP address.
    async fn client_ip(&self) -> Option<&str> {
        self.0.client_ip.as_deref()
    }

    /// When the change was committed.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

/// Filters on the audit log; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Exactly this action, e.g. `form.create`.
    pub action: Option<String>,
    /// Changes to objects of this type, e.g. `person`.
    pub object_type: Option<String>,
    /// Changes to this object (its id as shown in `objectId`).
    pub object_id: Option<ID>,
    /// Changes by this user or API key (an `actor.id`).
    pub actor_id: Option<ID>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
}

fn parse_uuid(field: &str, id: &Option<ID>) -> async_graphql::Result<Option<Uuid>> {
    id.as_ref()
        .map(|id| crate::ids::parse_uuid(field, id))
        .transpose()
}

/// Reading the audit log.
#[derive(Default)]
pub struct AuditQuery;

/// Totals of the audit log connection.
pub struct AuditTotals {
    scope: Can<perm::Admin>,
    filter: AuditFilter,
}

#[Object]
impl AuditTotals {
    /// How many entries match the filter (all pages). One `COUNT` query.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        audit::count(db(ctx), &self.scope, &self.filter).await.gql()
    }
}

#[Object]
impl AuditQuery {
    /// The organization's audit log, newest first. Needs `admin`.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entries (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Entries after this cursor (an `endCursor`).")] after: Option<String>,
        filter: Option<AuditLogFilter>,
    ) -> async_graphql::Result<Connection<String, AuditEntry, AuditTotals>> {
        let _principal = principal(ctx)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let f = filter.unwrap_or_default();
        let filter = AuditFilter {
            action: f.action,
            object_type: f.object_type,
            object_id: parse_uuid("filter.objectId", &f.object_id)?,
            actor_id: parse_uuid("filter.actorId", &f.actor_id)?,
            since: f.since,
            until: f.until,
        };
        let scope = can::<perm::Admin>(ctx)?;
        let result = audit::list(db(ctx), &scope, &filter, page).await.gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            AuditTotals { scope, filter },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|e| Edge::new(encode_cursor(e.id), AuditEntry(e))),
        );
        Ok(connection)
    }
}

/// The request context for audit records, from the HTTP layer's data.
pub(crate) fn request_context(ctx: &Context<'_>) -> RequestContext {
    RequestContext {
        client_ip: ctx
            .data_opt::<ClientIp>()
            .and_then(|ip| ip.0)
            .map(|ip| ip.to_string()),
    }
}
