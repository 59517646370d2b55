//! What the deployment's operator (a hosting co-op, a union's national office) does with the
//! organizations on it (create, list, suspend and resume them) and with user accounts
//! (disable and enable one everywhere). The operator proves itself with
//! the deployment's operator key (`TURNOUT_OPERATOR_KEY`), not a membership, so these services
//! take an [`Operator`], which only [`OperatorKey::verify`] makes.
//!
//! Nothing here reads an organization's people, events or messages: the listing is each
//! organization's name, slug, dates and member count.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use turnout_entity::{memberships, organizations, refresh_tokens, users};
use uuid::Uuid;

use crate::DomainError;
use crate::audit::{self, RequestContext};
use crate::auth::{OrgScope, constant_time_eq};
use crate::bootstrap::{self, NewOrganization};
use crate::db::Db;
use crate::error::DomainResult;

/// The shortest operator key accepted: it guards every organization on the deployment.
pub const MIN_KEY_LENGTH: usize = 32;

/// The deployment's operator key, as configured.
#[derive(Clone)]
pub struct OperatorKey(Arc<str>);

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorKey(…)")
    }
}

impl OperatorKey {
    /// The key from the configuration; refused when it is too short to be safe.
    pub fn parse(key: &str) -> Result<Self, String> {
        let key = key.trim();
        if key.chars().count() < MIN_KEY_LENGTH {
            return Err(format!(
                "the operator key must be at least {MIN_KEY_LENGTH} characters \
                 (`openssl rand -base64 33` makes one)"
            ));
        }
        Ok(Self(Arc::from(key)))
    }

    /// The operator, when `token` is the key (compared in constant time).
    pub fn verify(&self, token: &str) -> Option<Operator> {
        constant_time_eq(token.as_bytes(), self.0.as_bytes()).then_some(Operator { _proof: () })
    }
}

/// Proof that the caller presented the operator key.
#[derive(Clone, Debug)]
pub struct Operator {
    _proof: (),
}

/// An organization as the operator sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_reason: Option<String>,
    /// Members (users with access), not people.
    pub members: u64,
}

#[derive(FromQueryResult)]
struct MemberCount {
    organization_id: Uuid,
    members: i64,
}

/// Every organization on the deployment, oldest first, in two statements.
pub async fn list(db: &Db, _operator: &Operator) -> DomainResult<Vec<Summary>> {
    let orgs = organizations::Entity::find()
        .order_by_asc(organizations::Column::CreatedAt)
        .order_by_asc(organizations::Column::Id)
        .all(db.conn())
        .await?;
    let counts = memberships::Entity::find()
        .select_only()
        .column(memberships::Column::OrganizationId)
        .column_as(memberships::Column::Id.count(), "members")
        .group_by(memberships::Column::OrganizationId)
        .into_model::<MemberCount>()
        .all(db.conn())
        .await?;
    Ok(orgs
        .into_iter()
        .map(|org| {
            let members = counts
                .iter()
                .find(|c| c.organization_id == org.id)
                .map_or(0, |c| u64::try_from(c.members).unwrap_or(0));
            summary(org, members)
        })
        .collect())
}

/// Creates an organization with its owner's invitation (and an admin key if asked), as
/// `turnout org create` does, and emails the invitation to the owner.
pub async fn create(
    db: &Db,
    _operator: &Operator,
    ctx: &RequestContext,
    links: &crate::links::PublicLinks,
    name: &str,
    owner_email: &str,
    admin_key: bool,
) -> DomainResult<NewOrganization> {
    bootstrap::create_with_owner(db, ctx, Some(links), name, owner_email, admin_key).await
}

/// Suspends organization `id`: from now on its API keys and sessions are refused and its
/// public pages, sign-ups and RSVPs say it is suspended (`SUSPENDED`). Nothing is deleted, and
/// its queued messages are held until it is resumed. Suspending a suspended organization
/// changes its reason only.
/// Audited in the organization's own log.
pub async fn suspend(
    db: &Db,
    _operator: &Operator,
    ctx: &RequestContext,
    id: Uuid,
    reason: Option<&str>,
) -> DomainResult<Summary> {
    let reason = crate::values::optional_text("reason", reason, 500)?;
    set_suspension(
        db,
        ctx,
        id,
        Some((Utc::now(), reason)),
        "organization.suspend",
    )
    .await
}

/// Lifts a suspension: the organization's keys, sessions and pages work again.
pub async fn resume(
    db: &Db,
    _operator: &Operator,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<Summary> {
    set_suspension(db, ctx, id, None, "organization.resume").await
}

async fn set_suspension(
    db: &Db,
    ctx: &RequestContext,
    id: Uuid,
    suspension: Option<(DateTime<Utc>, Option<String>)>,
    action: &str,
) -> DomainResult<Summary> {
    let tx = db.begin_write().await?;
    let org = organizations::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    // A second suspension keeps the time it began.
    let (at, reason) = match suspension {
        Some((now, reason)) => (Some(org.suspended_at.unwrap_or(now)), reason),
        None => (None, None),
    };
    organizations::Entity::update_many()
        .col_expr(organizations::Column::SuspendedAt, Expr::value(at))
        .col_expr(organizations::Column::SuspendedReason, Expr::value(reason))
        .filter(organizations::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        &OrgScope::system(id),
        ctx,
        action,
        "organization",
        Some(id),
        &["suspendedAt", "suspendedReason"],
    )
    .await?;
    let members = memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(id))
        .count(&tx)
        .await?;
    let org = organizations::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    crate::credential_cache::commit_change(db, tx).await?;
    Ok(summary(org, members))
}

fn summary(org: organizations::Model, members: u64) -> Summary {
    Summary {
        id: org.id,
        name: org.name,
        slug: org.slug,
        created_at: org.created_at,
        suspended_at: org.suspended_at,
        suspended_reason: org.suspended_reason,
        members,
    }
}

/// A user account as the operator sees it: who, whether disabled, in how many organizations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub organizations: u64,
}

/// Disables the user with sign-in address `email` on the whole deployment: they cannot sign
/// in anywhere, every session of theirs ends (refresh tokens revoked; access tokens fail the
/// check on their next request), and they get no reminder or digest. Their memberships, roles
/// and the people and tasks assigned to them stay, for when they are enabled again. Audited in
/// each of their organizations' logs. Disabling a disabled user keeps the time it began.
pub async fn disable_user(
    db: &Db,
    _operator: &Operator,
    ctx: &RequestContext,
    email: &str,
) -> DomainResult<UserSummary> {
    set_user_disabled(db, ctx, email, true).await
}

/// Lets a disabled user sign in again (afresh: no earlier session returns), with the
/// memberships they had.
pub async fn enable_user(
    db: &Db,
    _operator: &Operator,
    ctx: &RequestContext,
    email: &str,
) -> DomainResult<UserSummary> {
    set_user_disabled(db, ctx, email, false).await
}

async fn set_user_disabled(
    db: &Db,
    ctx: &RequestContext,
    email: &str,
    disabled: bool,
) -> DomainResult<UserSummary> {
    let email = crate::values::Email::parse("email", email)?;
    let tx = db.begin_write().await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("user"))?;
    let now = Utc::now();
    let disabled_at = if disabled {
        Some(user.disabled_at.unwrap_or(now))
    } else {
        None
    };
    users::Entity::update_many()
        .col_expr(users::Column::DisabledAt, Expr::value(disabled_at))
        .filter(users::Column::Id.eq(user.id))
        .exec(&tx)
        .await?;
    // Both ways: a refresh racing the disable may have minted a token after it; enabling
    // must not bring that session back, so the user signs in afresh.
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    let orgs: Vec<Uuid> = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .select_only()
        .column(memberships::Column::OrganizationId)
        .into_tuple()
        .all(&tx)
        .await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    for org in &orgs {
        audit::record(
            &tx,
            &OrgScope::system(*org),
            ctx,
            action,
            "user",
            Some(user.id),
            &["disabled_at"],
        )
        .await?;
    }
    crate::credential_cache::commit_change(db, tx).await?;
    Ok(UserSummary {
        id: user.id,
        email: user.email,
        name: user.name,
        disabled_at,
        organizations: orgs.len() as u64,
    })
}
