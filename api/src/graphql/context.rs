//! What a resolver needs from the request: the database and the authenticated caller.

use async_graphql::Context;
use turnout_domain::DomainError;
use turnout_domain::auth::{Can, Permission, Principal};
use turnout_domain::db::Db;

use crate::error::to_gql;

/// The caller of this request, if it presented a valid credential.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth(pub Option<Principal>);

pub(crate) fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    ctx.data_unchecked::<Db>()
}

/// The public links of this deployment (absolute URLs for host pages, invites, RSVP pages).
pub(crate) fn links<'a>(ctx: &Context<'a>) -> &'a turnout_domain::links::PublicLinks {
    ctx.data_unchecked::<turnout_domain::links::PublicLinks>()
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

/// Proof that the caller holds permission `P`, for the domain services that need it.
pub(crate) fn can<P: Permission>(ctx: &Context<'_>) -> async_graphql::Result<Can<P>> {
    principal(ctx)?.can::<P>().map_err(to_gql)
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
