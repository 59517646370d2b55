//! "Forgot your password?": a user asks for a reset by email address, gets a link to
//! `/reset/<token>` by email, and sets a new password there (or through `resetPassword`).
//!
//! - The answer to a request is the same whether or not the address has an account, so the
//!   form cannot be used to learn who uses Turnout.
//! - A link works once, for an hour; a new request while one is less than a minute old sends
//!   nothing more (a form cannot be used to flood someone's inbox).
//! - A reset ends the user's sessions (every refresh token is revoked; access tokens already
//!   issued run out within their lifetime) and spends every other link the user was sent.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use turnout_entity::{memberships, organizations, password_resets, refresh_tokens, users};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{self, OrgScope};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::identity::{check_password, hash_password};
use crate::links::PublicLinks;
use crate::values::Email;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);
/// The least time between two reset emails to one account.
const RESEND_AFTER: Duration = Duration::minutes(1);
const PREFIX: &str = "pwr_";

/// Emails a reset link to the account with `email`, if there is one that may sign in (not
/// disabled, a member of an organization). `VALIDATION` only for text that is no email
/// address; otherwise `Ok` whatever happened.
pub async fn request(
    db: &Db,
    links: &PublicLinks,
    ctx: &RequestContext,
    email: &str,
) -> DomainResult<()> {
    let email = Email::parse("email", email)?;
    let Some(user) = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .filter(users::Column::DisabledAt.is_null())
        .one(db.conn())
        .await?
    else {
        return Ok(());
    };
    // The email goes out as (and in the language of) the organization the user joined first
    // that is not suspended; a user with none cannot sign in anywhere, so gets nothing.
    let Some((_, Some(org))) = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .find_also_related(organizations::Entity)
        .filter(organizations::Column::SuspendedAt.is_null())
        .order_by_asc(memberships::Column::CreatedAt)
        .one(db.conn())
        .await?
    else {
        return Ok(());
    };
    let now = Utc::now();
    let recent = password_resets::Entity::find()
        .filter(password_resets::Column::UserId.eq(user.id))
        .filter(password_resets::Column::CreatedAt.gt(now - RESEND_AFTER))
        .count(db.conn())
        .await?;
    if recent > 0 {
        return Ok(());
    }
    let token = format!("{PREFIX}{}", auth::random_token(32));
    let expires_at = now + RESET_TTL;
    let tx = db.begin_write().await?;
    password_resets::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        token_hash: Set(auth::hash_secret(&token)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let scope = OrgScope::system(org.id);
    let tz = org
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let mail = crate::messaging::account::password_reset(
        &org.default_language,
        &links.password_reset(&token),
        expires_at,
        tz,
    );
    crate::messaging::queue_account_email(&tx, &scope, &user.email, mail).await?;
    audit::record(
        &tx,
        &scope,
        ctx,
        "user.password_reset_requested",
        "user",
        Some(user.id),
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account a reset link is for (its email), while the link works; `NOT_FOUND` otherwise.
pub async fn email_of(db: &Db, token: &str) -> DomainResult<String> {
    let (_, user) = usable(db, token).await?;
    Ok(user.email)
}

/// Sets a new password with a reset link's token: once, within its hour. Ends every session
/// of the user. Audited in each of the user's organizations.
pub async fn reset(db: &Db, ctx: &RequestContext, token: &str, password: &str) -> DomainResult<()> {
    check_password("password", password)?;
    let (reset, user) = usable(db, token).await?;
    let hash = hash_password(password.to_owned()).await?;
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let spent = password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(Some(now)))
        .filter(password_resets::Column::Id.eq(reset.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(&tx)
        .await?;
    if spent.rows_affected != 1 {
        return Err(DomainError::not_found("password reset"));
    }
    // Any other link the user was sent is spent too: the password it would reset is gone.
    password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Expr::value(Some(now)))
        .filter(password_resets::Column::UserId.eq(user.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(&tx)
        .await?;
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(Some(hash)))
        .filter(users::Column::Id.eq(user.id))
        .exec(&tx)
        .await?;
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Some(now)))
        .filter(refresh_tokens::Column::UserId.eq(user.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    let orgs = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .all(&tx)
        .await?;
    for membership in orgs {
        audit::record(
            &tx,
            &OrgScope::system(membership.organization_id),
            ctx,
            "user.password_reset",
            "user",
            Some(user.id),
            &["password"],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The unused, unexpired reset with `token` and its (enabled) user.
async fn usable(db: &Db, token: &str) -> DomainResult<(password_resets::Model, users::Model)> {
    let gone = || DomainError::not_found("password reset");
    if !token.starts_with(PREFIX) || token.len() > 200 {
        return Err(gone());
    }
    let (reset, user) = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(auth::hash_secret(token)))
        .filter(password_resets::Column::UsedAt.is_null())
        .filter(password_resets::Column::ExpiresAt.gt(Utc::now()))
        .find_also_related(users::Entity)
        .one(db.conn())
        .await?
        .ok_or_else(gone)?;
    match user {
        Some(user) if user.disabled_at.is_none() => Ok((reset, user)),
        _ => Err(gone()),
    }
}
