//! Signing in and out, the caller's identity, and invitations.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::auth::{self, Role, perm};
use turnout_domain::identity::{self, Session};

use super::api_keys::ApiScope;
use super::context::{can, db, principal};
use crate::error::{GqlResult, to_gql};
use crate::ids::parse_uuid;
use crate::jwt::JwtConfig;

/// A user's role in an organization.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum GqlRole {
    /// Everything, including inviting other owners.
    #[graphql(name = "OWNER")]
    Owner,
    /// People, events, forms, API keys and invitations.
    #[graphql(name = "ADMIN")]
    Admin,
    /// Reads and writes people and events.
    #[graphql(name = "ORGANIZER")]
    Organizer,
    /// Reads people and events.
    #[graphql(name = "VIEWER")]
    Viewer,
}

impl From<GqlRole> for Role {
    fn from(r: GqlRole) -> Self {
        match r {
            GqlRole::Owner => Role::Owner,
            GqlRole::Admin => Role::Admin,
            GqlRole::Organizer => Role::Organizer,
            GqlRole::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for GqlRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => GqlRole::Owner,
            Role::Admin => GqlRole::Admin,
            Role::Organizer => GqlRole::Organizer,
            Role::Viewer => GqlRole::Viewer,
        }
    }
}

/// The tokens of a session.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// A short-lived access token (JWT); send it as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// An opaque token that buys a new access token once, with `refresh`. Keep it secret.
    pub refresh_token: String,
    /// When the refresh token expires if unused.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// Always `Bearer`.
    pub token_type: String,
    /// The organization the session acts in (its UUID).
    pub organization_id: ID,
    /// The user's role in that organization.
    pub role: GqlRole,
}

fn payload(ctx: &Context<'_>, session: Session) -> async_graphql::Result<AuthPayload> {
    let jwt = ctx.data_unchecked::<JwtConfig>();
    let (access_token, access_token_expires_at) = jwt
        .sign(session.user_id, session.org_id, session.role.as_str())
        .map_err(|err| to_gql(DomainError::internal(err)))?;
    Ok(AuthPayload {
        access_token,
        access_token_expires_at,
        refresh_token: session.refresh_token,
        refresh_token_expires_at: session.refresh_expires_at,
        token_type: "Bearer".into(),
        organization_id: ID(session.org_id.to_string()),
        role: session.role.into(),
    })
}

/// A user account.
#[derive(SimpleObject)]
pub struct User {
    /// The user's id (a UUID).
    pub id: ID,
    /// The user's email address, lowercased.
    pub email: String,
    /// The user's name.
    pub name: String,
}

/// Who is calling: a user (with a role) or an API key, in one organization.
#[derive(SimpleObject)]
pub struct Me {
    /// The user, when the caller signed in as one; null for an API key.
    pub user: Option<User>,
    /// The API key's id, when the caller is an API key.
    pub api_key_id: Option<ID>,
    /// The organization the caller acts in (its UUID).
    pub organization_id: ID,
    /// The user's role; null for an API key.
    pub role: Option<GqlRole>,
    /// What the caller may do.
    pub scopes: Vec<ApiScope>,
    /// The chapters (UUIDs) the caller is limited to; null means the whole organization.
    pub chapter_ids: Option<Vec<ID>>,
}

/// An invitation to join the organization.
#[derive(SimpleObject)]
pub struct Invitation {
    /// The invitation's id (a UUID).
    pub id: ID,
    /// Who is invited.
    pub email: String,
    /// The role the invitee gets.
    pub role: GqlRole,
    /// The chapters (UUIDs) the invitee will be limited to; empty means the whole organization.
    pub chapter_ids: Vec<ID>,
    /// The one-time token the invitee passes to `acceptInvitation`. Shown once. The invitee
    /// is also emailed a link to the page that accepts it (`/invite/<token>`).
    pub token: String,
    /// When the invitation expires.
    pub expires_at: DateTime<Utc>,
}

impl From<turnout_domain::identity::NewInvitation> for Invitation {
    fn from(inv: turnout_domain::identity::NewInvitation) -> Self {
        Self {
            id: ID(inv.id.to_string()),
            email: inv.email,
            role: inv.role.into(),
            chapter_ids: inv
                .chapter_ids
                .iter()
                .map(|id| ID(id.to_string()))
                .collect(),
            token: inv.token,
            expires_at: inv.expires_at,
        }
    }
}

/// The caller's identity.
#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The authenticated caller: user or API key, organization, role, scopes and chapters.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let principal = principal(ctx)?;
        let user = identity::user_of(db(ctx), principal).await.gql()?;
        Ok(Me {
            user: user.map(|u| User {
                id: ID(u.id.to_string()),
                email: u.email,
                name: u.name,
            }),
            api_key_id: match principal.actor() {
                auth::Actor::ApiKey(id) => Some(ID(id.to_string())),
                auth::Actor::User(_) => None,
            },
            organization_id: ID(principal.org_id().to_string()),
            role: principal.role().map(GqlRole::from),
            scopes: principal
                .scopes()
                .iter()
                .copied()
                .map(ApiScope::from)
                .collect(),
            chapter_ids: principal
                .chapters()
                .map(|c| c.iter().map(|id| ID(id.to_string())).collect()),
        })
    }
}

/// Sessions and invitations.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Sign in with email and password. A wrong email and a wrong password give the same
    /// `UNAUTHENTICATED` error.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address.")] email: String,
        #[graphql(desc = "The account's password.")] password: String,
        #[graphql(
            desc = "The organization (UUID) to act in; needed when the user belongs to several."
        )]
        organization_id: Option<ID>,
    ) -> async_graphql::Result<AuthPayload> {
        check_login_budget(ctx)?;
        let limiter = ctx.data_opt::<std::sync::Arc<crate::rate_limit::RateLimiter>>();
        if let Some(Err(wait)) = limiter.map(|l| l.check_backoff(&email)) {
            return Err(crate::error::to_gql(
                turnout_domain::DomainError::RateLimited { retry_after: wait },
            ));
        }
        let org = organization_id
            .as_ref()
            .map(|id| parse_uuid("organizationId", id))
            .transpose()?;
        let result = identity::login(db(ctx), &email, &password, org).await;
        if let Some(l) = limiter {
            match &result {
                Ok(_) => l.record_attempt(&email, true),
                Err(turnout_domain::DomainError::Unauthenticated(_)) => {
                    l.record_attempt(&email, false)
                }
                Err(_) => {}
            }
        }
        payload(ctx, result.gql()?)
    }

    /// Trade a refresh token for a new access token and a new refresh token. Each refresh token
    /// works once; presenting a used one again ends the whole session.
    async fn refresh(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token from `login`, `refresh` or `acceptInvitation`.")]
        refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        check_login_budget(ctx)?;
        let session = identity::refresh(db(ctx), &refresh_token).await.gql()?;
        payload(ctx, session)
    }

    /// End the session of this refresh token. Access tokens already issued stay valid until
    /// they expire (minutes). Always true.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's current refresh token.")] refresh_token: String,
    ) -> async_graphql::Result<bool> {
        check_login_budget(ctx)?;
        identity::logout(db(ctx), &refresh_token).await.gql()?;
        Ok(true)
    }

    /// Public: email a password reset link (to `/reset/<token>`, working once for an hour) to
    /// the account with this address. The answer is `true` whether or not there is one, so it
    /// tells nobody who has an account; a malformed address is `VALIDATION`. Shares the login
    /// rate limit.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address.")] email: String,
    ) -> async_graphql::Result<bool> {
        check_login_budget(ctx)?;
        turnout_domain::password_reset::request(
            db(ctx),
            super::context::links(ctx),
            &super::audit::request_context(ctx),
            &email,
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// Public: set a new password with the token of a reset link. Ends every session of the
    /// account. An unknown, used or expired token is `NOT_FOUND`; a password of the wrong
    /// length is `VALIDATION` on `password`.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token of the reset link.")] token: String,
        #[graphql(desc = "The new password (10–200 characters).")] password: String,
    ) -> async_graphql::Result<bool> {
        check_login_budget(ctx)?;
        turnout_domain::password_reset::reset(
            db(ctx),
            &super::audit::request_context(ctx),
            &token,
            &password,
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// Invite someone into the organization. Needs `MEMBERS_MANAGE` (admins and owners); only
    /// owners invite owners. The invitee is emailed a link to accept it (`/invite/<token>`),
    /// in the organization's language; the one-time token is returned too.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitee's email address.")] email: String,
        #[graphql(desc = "The role the invitee gets.")] role: GqlRole,
        #[graphql(
            desc = "Chapters (UUIDs) to limit the invitee to; empty or absent means the whole organization."
        )]
        chapter_ids: Option<Vec<ID>>,
    ) -> async_graphql::Result<Invitation> {
        let chapters = chapter_ids
            .unwrap_or_default()
            .iter()
            .map(|id| parse_uuid("chapterIds", id))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let inv = identity::invite(
            db(ctx),
            &can::<perm::MembersManage>(ctx)?,
            &super::audit::request_context(ctx),
            super::context::links(ctx),
            &email,
            role.into(),
            &chapters,
        )
        .await
        .gql()?;
        Ok(Invitation::from(inv))
    }

    /// Accept an invitation: set a password and a name (an existing account gives its current
    /// password instead), and sign in. Each invitation works once.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation's one-time token.")] token: String,
        #[graphql(desc = "The new password (10–200 characters).")] password: String,
        #[graphql(desc = "The invitee's name.")] name: String,
    ) -> async_graphql::Result<AuthPayload> {
        check_login_budget(ctx)?;
        let session = identity::accept_invitation(db(ctx), &token, &password, &name)
            .await
            .gql()?;
        payload(ctx, session)
    }
}

/// Credential attempts are budgeted per client IP, so passwords and tokens cannot be guessed at
/// speed.
fn check_login_budget(ctx: &Context<'_>) -> async_graphql::Result<()> {
    let ip = ctx
        .data_opt::<super::signup::ClientIp>()
        .and_then(|ip| ip.0);
    match ctx
        .data_opt::<std::sync::Arc<crate::rate_limit::RateLimiter>>()
        .map(|l| l.check_login(ip))
    {
        Some(Err(wait)) => Err(crate::error::to_gql(
            turnout_domain::DomainError::RateLimited { retry_after: wait },
        )),
        _ => Ok(()),
    }
}
