//! The deployment operator's fields: create, list, suspend and resume organizations, and
//! disable or enable a user account everywhere. They
//! answer only a request that sent the operator key (`TURNOUT_OPERATOR_KEY`) as its bearer
//! token; nothing here reads any organization's people.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::organization::operator::{self, Operator, Summary};

use super::audit::request_context;
use super::context::{db, links};
use super::identity::Invitation;
use crate::error::{GqlResult, to_gql};
use crate::ids::parse_uuid;

fn operator<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Operator> {
    ctx.data_opt::<Operator>().ok_or_else(|| {
        to_gql(DomainError::Forbidden(
            "this field needs the deployment's operator key (TURNOUT_OPERATOR_KEY) as the \
             bearer token"
                .into(),
        ))
    })
}

/// An organization on this deployment, as its operator sees it.
#[derive(SimpleObject)]
pub struct OperatorOrganization {
    /// The organization's id (a UUID).
    pub id: ID,
    pub name: String,
    /// Its unique short name (`turnout org recover`, `/events?org=`).
    pub slug: String,
    pub created_at: DateTime<Utc>,
    /// When it was suspended; null while it is active.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Why, as the operator wrote it.
    pub suspended_reason: Option<String>,
    /// How many users are members of it.
    pub member_count: i32,
}

impl From<Summary> for OperatorOrganization {
    fn from(s: Summary) -> Self {
        Self {
            id: ID(s.id.to_string()),
            name: s.name,
            slug: s.slug,
            created_at: s.created_at,
            suspended_at: s.suspended_at,
            suspended_reason: s.suspended_reason,
            member_count: i32::try_from(s.members).unwrap_or(i32::MAX),
        }
    }
}

/// A user account as the operator sees it (no organization's people).
#[derive(SimpleObject)]
pub struct OperatorUser {
    /// The user's id (a UUID).
    pub id: ID,
    /// Their sign-in address.
    pub email: String,
    pub name: String,
    /// When they were disabled on this deployment; null while they may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// How many organizations they are a member of.
    pub organization_count: i32,
}

impl From<operator::UserSummary> for OperatorUser {
    fn from(u: operator::UserSummary) -> Self {
        Self {
            id: ID(u.id.to_string()),
            email: u.email,
            name: u.name,
            disabled_at: u.disabled_at,
            organization_count: i32::try_from(u.organizations).unwrap_or(i32::MAX),
        }
    }
}

/// A new organization.
#[derive(InputObject)]
pub struct OperatorCreateOrganizationInput {
    /// Its name (1–200 characters).
    pub name: String,
    /// The owner's email address: they get the invitation.
    pub owner_email: String,
    /// Also make an admin API key for it (shown once).
    #[graphql(default)]
    pub admin_key: bool,
}

/// A created organization, its owner's invitation and, if asked, its admin API key.
#[derive(SimpleObject)]
pub struct OperatorCreatedOrganization {
    pub organization: OperatorOrganization,
    /// The owner's invitation; its token (shown once) is accepted with `acceptInvitation`.
    pub owner_invitation: Invitation,
    /// The admin API key, when `adminKey` was asked for. Shown once.
    pub admin_api_key: Option<String>,
}

#[derive(Default)]
pub struct OperatorQuery;

#[Object]
impl OperatorQuery {
    /// Every organization on this deployment, oldest first. Needs the operator key.
    async fn operator_organizations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<OperatorOrganization>> {
        let op = operator(ctx)?;
        let rows = operator::list(db(ctx), op).await.gql()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct OperatorMutation;

#[Object]
impl OperatorMutation {
    /// Create an organization with its owner's invitation (as `turnout org create`). Needs the
    /// operator key. A bad name or email is `VALIDATION` on that field, and nothing is made.
    async fn operator_create_organization(
        &self,
        ctx: &Context<'_>,
        input: OperatorCreateOrganizationInput,
    ) -> async_graphql::Result<OperatorCreatedOrganization> {
        let op = operator(ctx)?;
        let db = db(ctx);
        let made = operator::create(
            db,
            op,
            &request_context(ctx),
            links(ctx),
            &input.name,
            &input.owner_email,
            input.admin_key,
        )
        .await
        .gql()?;
        let organization = operator::list(db, op)
            .await
            .gql()?
            .into_iter()
            .find(|o| o.id == made.organization_id)
            .ok_or_else(|| to_gql(DomainError::internal("the new organization is missing")))?;
        Ok(OperatorCreatedOrganization {
            organization: organization.into(),
            owner_invitation: made.owner_invitation.into(),
            admin_api_key: made.api_key,
        })
    }

    /// Suspend an organization: its API keys and sessions are refused (`SUSPENDED`), and its
    /// sign-up, event and RSVP pages say it is suspended, until it is resumed. Nothing is
    /// deleted. Needs the operator key.
    async fn operator_suspend_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] id: ID,
        #[graphql(desc = "Why (at most 500 characters), for the record.")] reason: Option<String>,
    ) -> async_graphql::Result<OperatorOrganization> {
        let op = operator(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = operator::suspend(db(ctx), op, &request_context(ctx), id, reason.as_deref())
            .await
            .gql()?;
        Ok(row.into())
    }

    /// Disable a user account on the whole deployment (a compromised or abusive account): they
    /// cannot sign in to any organization, their sessions end at once, and they get no
    /// reminders or digests. Memberships, roles and assignments stay for when they are
    /// enabled. Audited in each of their organizations. `NOT_FOUND` when no user has that
    /// address. Needs the operator key.
    async fn operator_disable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's sign-in address.")] email: String,
    ) -> async_graphql::Result<OperatorUser> {
        let op = operator(ctx)?;
        let user = operator::disable_user(db(ctx), op, &request_context(ctx), &email)
            .await
            .gql()?;
        Ok(user.into())
    }

    /// Let a disabled user sign in again. Needs the operator key.
    async fn operator_enable_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's sign-in address.")] email: String,
    ) -> async_graphql::Result<OperatorUser> {
        let op = operator(ctx)?;
        let user = operator::enable_user(db(ctx), op, &request_context(ctx), &email)
            .await
            .gql()?;
        Ok(user.into())
    }

    /// Lift a suspension. Needs the operator key.
    async fn operator_resume_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's id.")] id: ID,
    ) -> async_graphql::Result<OperatorOrganization> {
        let op = operator(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = operator::resume(db(ctx), op, &request_context(ctx), id)
            .await
            .gql()?;
        Ok(row.into())
    }
}
