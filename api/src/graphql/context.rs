//! What a resolver needs from the request: the database and the authenticated caller.

use async_graphql::Context;
use turnout_domain::DomainError;
use turnout_domain::auth::{OrgScope, Principal, Scope};
use turnout_domain::db::Db;

use crate::error::to_gql;

/// The caller of this request, if it presented a valid credential.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth(pub Option<Principal>);

pub(crate) fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    ctx.data_unchecked::<Db>()
}

pub(crate) fn principal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Principal> {
    ctx.data_opt::<RequestAuth>()
        .and_then(|a| a.0.as_ref())
        .ok_or_else(|| {
            to_gql(DomainError::Unauthenticated(
                "send `Authorization: Bearer <API key>` to use this field".into(),
            ))
        })
}

/// The organization scope for an action needing `scope`.
pub(crate) fn org_scope(ctx: &Context<'_>, scope: Scope) -> async_graphql::Result<OrgScope> {
    principal(ctx)?.scope(scope).map_err(to_gql)
}

/// The automation runner (plugin host + database) for dry runs, replays and validation.
pub(crate) fn runner<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a std::sync::Arc<turnout_plugin_host::AutomationRunner>> {
    ctx.data_opt::<std::sync::Arc<turnout_plugin_host::AutomationRunner>>()
        .ok_or_else(|| {
            to_gql(DomainError::internal(
                "no plugin host is configured for the API",
            ))
        })
}
