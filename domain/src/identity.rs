//! Users and their sessions: password login, refresh-token rotation, logout, invitations.
//!
//! The API turns a [`Session`] into a signed access token; this module knows nothing of JWTs.
//! Refresh tokens are opaque, stored as SHA-256 hashes, used once: each use marks the token
//! rotated and issues the next one of the same family. A rotated (spent) token presented again
//! means it was stolen or replayed, so the whole family is revoked.
//!
//! Passwords are hashed with argon2id on the blocking thread pool, never on the async executor.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use turnout_entity::{
    chapters, invitations, membership_chapters, memberships, refresh_tokens, users,
};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{self, OrgScope, Principal, Role, Scope};
use crate::auth::{Can, perm};
use crate::db::{Db, is_unique_violation, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::values::{Email, required_text};

/// How long a refresh token (and so a session without activity) lives.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// How long an invitation may wait to be accepted.
pub const INVITATION_TTL: Duration = Duration::days(7);
/// Password length bounds, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 200;
/// The most chapters one membership may be limited to.
const MAX_CHAPTERS: usize = 100;

const REFRESH_PREFIX: &str = "rt_";
pub(crate) const INVITATION_PREFIX: &str = "inv_";

/// A signed-in user in one organization, with the next refresh token (shown once).
#[derive(Debug)]
pub struct Session {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub role: Role,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

fn wrong_credentials() -> DomainError {
    DomainError::Unauthenticated("the email or the password is wrong".into())
}

fn invalid_refresh() -> DomainError {
    DomainError::Unauthenticated("the refresh token is not valid".into())
}

fn invalid_invitation() -> DomainError {
    DomainError::Unauthenticated("the invitation is not valid".into())
}

pub(crate) fn check_password(field: &str, password: &str) -> DomainResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(DomainError::validation(
            field,
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(DomainError::validation(
            field,
            format!("must have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id (default parameters) off the async executor.
pub(crate) async fn hash_password(password: String) -> DomainResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|err| DomainError::internal(format!("password hashing task: {err}")))?
    .map_err(|err| DomainError::internal(format!("password hashing: {err}")))
}

/// True when `password` matches `hash`. With no hash (unknown user, no password yet) it still
/// spends the time of a real check, so timing does not tell whether the email exists.
async fn verify_password(password: String, hash: Option<String>) -> DomainResult<bool> {
    tokio::task::spawn_blocking(move || {
        static DUMMY: OnceLock<Option<String>> = OnceLock::new();
        let (hash, real) = match hash {
            Some(h) => (Some(h), true),
            None => (
                DUMMY
                    .get_or_init(|| {
                        Argon2::default()
                            .hash_password(b"turnout timing equalizer")
                            .ok()
                            .map(|h| h.to_string())
                    })
                    .clone(),
                false,
            ),
        };
        let ok = hash.is_some_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), h.as_str())
                .is_ok()
        });
        ok && real
    })
    .await
    .map_err(|err| DomainError::internal(format!("password check task: {err}")))
}

/// Inserts a new refresh token of `family_id`; returns the token and its expiry.
async fn insert_refresh_token<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    org_id: Uuid,
    family_id: Uuid,
) -> DomainResult<(String, DateTime<Utc>)> {
    let secret = auth::random_token(32);
    let token = format!("{REFRESH_PREFIX}{secret}");
    let now = Utc::now();
    let expires_at = now + REFRESH_TOKEN_TTL;
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org_id),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(auth::hash_secret(&token)),
        expires_at: Set(expires_at),
        rotated_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok((token, expires_at))
}

async fn revoke_family<C: ConnectionTrait>(conn: &C, family_id: Uuid) -> DomainResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(Some(Utc::now())),
        )
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Signs a user in with email and password. `org_id` picks the organization when the user
/// belongs to several. Any failure of the credentials is the same `Unauthenticated` error,
/// whether or not the email exists.
pub async fn login(
    db: &Db,
    email: &str,
    password: &str,
    org_id: Option<Uuid>,
) -> DomainResult<Session> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(wrong_credentials());
    }
    let user = match Email::parse("email", email) {
        Ok(email) => {
            users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(db.conn())
                .await?
        }
        Err(_) => None,
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = verify_password(password.to_owned(), hash).await?;
    let user = match user {
        Some(user) if matches && user.disabled_at.is_none() => user,
        _ => return Err(wrong_credentials()),
    };
    // A membership disabled by its organization does not sign in; the others still do.
    let mut query = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(user.id))
        .filter(memberships::Column::DisabledAt.is_null());
    if let Some(org_id) = org_id {
        query = query.filter(memberships::Column::OrganizationId.eq(org_id));
    }
    let mut found = query.all(db.conn()).await?;
    let membership = match found.len() {
        0 => return Err(wrong_credentials()),
        1 => found.remove(0),
        _ => {
            return Err(DomainError::validation(
                "organizationId",
                "this user belongs to several organizations; name one",
            ));
        }
    };
    let role = Role::parse(&membership.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", membership.role)))?;
    let tx = db.begin_write().await?;
    let (refresh_token, refresh_expires_at) =
        insert_refresh_token(&tx, user.id, membership.organization_id, Uuid::now_v7()).await?;
    tx.commit().await?;
    Ok(Session {
        user_id: user.id,
        org_id: membership.organization_id,
        role,
        refresh_token,
        refresh_expires_at,
    })
}

/// Trades a refresh token for a new session (and the next refresh token of its family). A
/// spent token presented again revokes the whole family.
pub async fn refresh(db: &Db, token: &str) -> DomainResult<Session> {
    if !token.starts_with(REFRESH_PREFIX) || token.len() > 200 {
        return Err(invalid_refresh());
    }
    let hash = auth::hash_secret(token);
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db.conn())
        .await?
        .ok_or_else(invalid_refresh)?;
    if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
        return Err(invalid_refresh());
    }
    if row.rotated_at.is_some() {
        tracing::warn!(family = %row.family_id, "a spent refresh token was reused; revoking its family");
        let tx = db.begin_write().await?;
        revoke_family(&tx, row.family_id).await?;
        tx.commit().await?;
        return Err(invalid_refresh());
    }
    // The membership must still exist and the user be enabled.
    let principal = auth::principal_for_user(db, row.user_id, row.organization_id)
        .await
        .map_err(|err| match err {
            DomainError::Unauthenticated(_) => invalid_refresh(),
            other => other,
        })?;
    let role = principal
        .role()
        .ok_or_else(|| DomainError::internal("a user principal without a role"))?;
    let tx = db.begin_write().await?;
    // Only one of two concurrent uses wins; the loser is a reuse.
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RotatedAt,
            Expr::value(Some(Utc::now())),
        )
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    if spent.rows_affected != 1 {
        revoke_family(&tx, row.family_id).await?;
        tx.commit().await?;
        return Err(invalid_refresh());
    }
    let (refresh_token, refresh_expires_at) =
        insert_refresh_token(&tx, row.user_id, row.organization_id, row.family_id).await?;
    tx.commit().await?;
    Ok(Session {
        user_id: row.user_id,
        org_id: row.organization_id,
        role,
        refresh_token,
        refresh_expires_at,
    })
}

/// Ends the session the refresh token belongs to (its whole family). Unknown tokens are
/// ignored, so the answer says nothing about them.
pub async fn logout(db: &Db, token: &str) -> DomainResult<()> {
    if !token.starts_with(REFRESH_PREFIX) || token.len() > 200 {
        return Ok(());
    }
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(auth::hash_secret(token)))
        .one(db.conn())
        .await?;
    if let Some(row) = row {
        let tx = db.begin_write().await?;
        revoke_family(&tx, row.family_id).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A new invitation; the token is shown once (until email delivery exists, to the inviter).
#[derive(Debug)]
pub struct NewInvitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub chapter_ids: Vec<Uuid>,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Invites `email` into the principal's organization with `role`, limited to `chapter_ids`
/// (empty: the whole organization). Needs `members:manage`; only owners invite owners.
pub async fn invite(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    links: &crate::links::PublicLinks,
    email: &str,
    role: Role,
    chapter_ids: &[Uuid],
) -> DomainResult<NewInvitation> {
    let email = Email::parse("email", email)?;
    // Nobody grants more than they hold: every scope of the role (an owner's is `admin`), and
    // a caller limited to chapters invites only into those chapters. Otherwise a key with
    // just `members:manage` could invite an admin, accept, and hold everything.
    if let Some(missing) = role.scopes().iter().find(|s| !scope.holds(**s)) {
        return Err(DomainError::Forbidden(format!(
            "inviting a {} grants `{}`, which this credential does not hold",
            role.as_str(),
            missing.as_str()
        )));
    }
    let mut chapter_ids = chapter_ids.to_vec();
    chapter_ids.sort();
    chapter_ids.dedup();
    if let Some(own) = scope.chapters()
        && (chapter_ids.is_empty() || chapter_ids.iter().any(|c| !own.contains(c)))
    {
        return Err(DomainError::Forbidden(
            "a caller limited to chapters invites only into its own chapters".into(),
        ));
    }
    if chapter_ids.len() > MAX_CHAPTERS {
        return Err(DomainError::validation(
            "chapterIds",
            format!("may name at most {MAX_CHAPTERS} chapters"),
        ));
    }
    if !chapter_ids.is_empty() {
        let known = chapters::Entity::find()
            .filter(chapters::Column::OrganizationId.eq(scope.org_id()))
            .filter(chapters::Column::Id.is_in(chapter_ids.iter().copied()))
            .count(db.conn())
            .await?;
        if known != chapter_ids.len() as u64 {
            return Err(DomainError::validation(
                "chapterIds",
                "names a chapter that does not exist",
            ));
        }
    }
    let invited_by = match scope.actor() {
        Some(auth::Actor::User(id)) => Some(id),
        Some(auth::Actor::ApiKey(_)) | None => None,
    };
    let tx = db.begin_write().await?;
    if let Some(user) = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&tx)
        .await?
    {
        let member = memberships::Entity::find()
            .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
            .filter(memberships::Column::UserId.eq(user.id))
            .count(&tx)
            .await?;
        // A member without a password (the owner made at first start) may be invited by an
        // owner to set one; anyone else is a member already.
        let claimable = user.password_hash.is_none() && scope.holds(Scope::Admin);
        if member > 0 && !claimable {
            return Err(DomainError::Conflict(
                "this email already belongs to a member of the organization".into(),
            ));
        }
    }
    let invitation =
        insert_invitation(&tx, scope, ctx, &email, role, chapter_ids, invited_by).await?;
    email_invitation(&tx, scope, links, &invitation).await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Writes an invitation (and its audit entry) in `conn`'s transaction; the checks of who may
/// invite whom are the caller's.
pub(crate) async fn insert_invitation<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    ctx: &RequestContext,
    email: &Email,
    role: Role,
    chapter_ids: Vec<Uuid>,
    invited_by: Option<Uuid>,
) -> DomainResult<NewInvitation> {
    let token = format!("{INVITATION_PREFIX}{}", auth::random_token(32));
    let id = Uuid::now_v7();
    let now = Utc::now();
    let expires_at = now + INVITATION_TTL;
    invitations::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        email: Set(email.as_str().to_owned()),
        role: Set(role.as_str().to_owned()),
        chapter_ids: Set(serde_json::json!(
            chapter_ids.iter().map(Uuid::to_string).collect::<Vec<_>>()
        )),
        token_hash: Set(auth::hash_secret(&token)),
        invited_by_user_id: Set(invited_by),
        expires_at: Set(expires_at),
        accepted_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let fields = ["email", "role", "chapter_ids"];
    audit::record(
        conn,
        scope,
        ctx,
        "invitation.create",
        "invitation",
        Some(id),
        &fields,
    )
    .await?;
    let invitation = NewInvitation {
        id,
        email: email.as_str().to_owned(),
        role,
        chapter_ids,
        token,
        expires_at,
    };
    Ok(invitation)
}

/// Queues the email that carries `invitation`'s link to the invitee, in the organization's
/// language, in the caller's transaction (so an invitation that is not saved sends nothing).
pub(crate) async fn email_invitation<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    links: &crate::links::PublicLinks,
    invitation: &NewInvitation,
) -> DomainResult<()> {
    let org = turnout_entity::organizations::Entity::find_by_id(scope.org_id())
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    let tz = org
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let email = crate::messaging::account::invitation(
        &org.default_language,
        &org.name,
        invitation.role.as_str(),
        &links.invitation(&invitation.token),
        invitation.expires_at,
        tz,
    );
    crate::messaging::queue_account_email(conn, scope, &invitation.email, email).await?;
    Ok(())
}

/// An invitation as its page shows it before it is accepted.
#[derive(Clone, Debug)]
pub struct InvitationToAccept {
    pub email: String,
    pub role: Role,
    pub organization: turnout_entity::organizations::Model,
    /// The invitee has an account with a password: accepting asks for it, not a new one.
    pub has_password: bool,
}

/// The pending, unexpired invitation with `token`, for the page where it is accepted
/// (`NOT_FOUND` for any other token, so the page cannot tell a used one from a guess).
pub async fn invitation_to_accept(db: &Db, token: &str) -> DomainResult<InvitationToAccept> {
    let gone = || DomainError::not_found("invitation");
    if !token.starts_with(INVITATION_PREFIX) || token.len() > 200 {
        return Err(gone());
    }
    let (invitation, org) = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(auth::hash_secret(token)))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(Utc::now()))
        .find_also_related(turnout_entity::organizations::Entity)
        .one(db.conn())
        .await?
        .ok_or_else(gone)?;
    crate::organization::refuse_suspended(org.as_ref())?;
    let organization = org.ok_or_else(gone)?;
    let role = Role::parse(&invitation.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", invitation.role)))?;
    let has_password = users::Entity::find()
        .filter(users::Column::Email.eq(invitation.email.as_str()))
        .filter(users::Column::PasswordHash.is_not_null())
        .count(db.conn())
        .await?
        > 0;
    Ok(InvitationToAccept {
        email: invitation.email,
        role,
        organization,
        has_password,
    })
}

/// Accepts an invitation: creates the user with `password` and `name` (or, for an existing
/// user, checks their current password), adds the membership and signs them in. Works once.
pub async fn accept_invitation(
    db: &Db,
    token: &str,
    password: &str,
    name: &str,
) -> DomainResult<Session> {
    check_password("password", password)?;
    let name = required_text("name", Some(name), 200)?;
    if !token.starts_with(INVITATION_PREFIX) || token.len() > 200 {
        return Err(invalid_invitation());
    }
    let invitation = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(auth::hash_secret(token)))
        .one(db.conn())
        .await?
        .ok_or_else(invalid_invitation)?;
    let now = Utc::now();
    if invitation.accepted_at.is_some() || invitation.expires_at <= now {
        return Err(invalid_invitation());
    }
    let role = Role::parse(&invitation.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", invitation.role)))?;
    let chapter_ids: Vec<Uuid> = invitation
        .chapter_ids
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default();
    let existing = users::Entity::find()
        .filter(users::Column::Email.eq(invitation.email.as_str()))
        .one(db.conn())
        .await?;
    // An existing account keeps its password: whoever holds the invitation token must also
    // know it, or an inviter could take over someone else's account. An account without a
    // password may set one only if it belongs to no other organization.
    let account = match existing {
        Some(user) if user.disabled_at.is_some() => return Err(invalid_invitation()),
        Some(user) if user.password_hash.is_some() => {
            if !verify_password(password.to_owned(), user.password_hash.clone()).await? {
                return Err(invalid_invitation());
            }
            Account::Existing(user.id)
        }
        Some(user) => {
            let elsewhere = memberships::Entity::find()
                .filter(memberships::Column::UserId.eq(user.id))
                .filter(memberships::Column::OrganizationId.ne(invitation.organization_id))
                .count(db.conn())
                .await?;
            if elsewhere > 0 {
                return Err(invalid_invitation());
            }
            Account::Claim(user.id, hash_password(password.to_owned()).await?)
        }
        None => Account::New(hash_password(password.to_owned()).await?),
    };
    let tx = db.begin_write().await?;
    let claimed = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(invitations::Column::Id.eq(invitation.id))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(&tx)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid_invitation());
    }
    let user_id = match account {
        Account::Existing(id) => id,
        Account::Claim(id, hash) => {
            let set = users::Entity::update_many()
                .col_expr(users::Column::PasswordHash, Expr::value(Some(hash)))
                .filter(users::Column::Id.eq(id))
                .filter(users::Column::PasswordHash.is_null())
                .exec(&tx)
                .await?;
            if set.rows_affected != 1 {
                return Err(invalid_invitation());
            }
            id
        }
        Account::New(hash) => {
            let id = Uuid::now_v7();
            users::ActiveModel {
                id: Set(id),
                email: Set(invitation.email.clone()),
                name: Set(name),
                password_hash: Set(Some(hash)),
                disabled_at: Set(None),
                created_at: Set(now),
            }
            .insert(&tx)
            .await
            .map_err(|err| {
                if is_unique_violation(&err) {
                    DomainError::Conflict("the account was created meanwhile; try again".into())
                } else {
                    err.into()
                }
            })?;
            id
        }
    };
    let already = memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(invitation.organization_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(&tx)
        .await?;
    if let Some(membership) = already {
        // A disabled member is enabled by a manager, not by an old invitation.
        if membership.disabled_at.is_some() {
            return Err(invalid_invitation());
        }
        // Only an owner's invitation of a member without a password gets here: it sets the
        // password and leaves the membership as it is.
        let role = Role::parse(&membership.role)
            .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", membership.role)))?;
        let (refresh_token, refresh_expires_at) =
            insert_refresh_token(&tx, user_id, invitation.organization_id, Uuid::now_v7()).await?;
        tx.commit().await?;
        return Ok(Session {
            user_id,
            org_id: invitation.organization_id,
            role,
            refresh_token,
            refresh_expires_at,
        });
    }
    let membership_id = Uuid::now_v7();
    memberships::ActiveModel {
        id: Set(membership_id),
        organization_id: Set(invitation.organization_id),
        user_id: Set(user_id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        disabled_at: Set(None),
        digest_sent_at: Set(None),
    }
    .insert(&tx)
    .await
    .map_err(|err| taken_if_unique(err, "email", "already a member of the organization"))?;
    if !chapter_ids.is_empty() {
        membership_chapters::Entity::insert_many(chapter_ids.iter().map(|chapter_id| {
            membership_chapters::ActiveModel {
                membership_id: Set(membership_id),
                chapter_id: Set(*chapter_id),
            }
        }))
        .exec(&tx)
        .await?;
    }
    let (refresh_token, refresh_expires_at) =
        insert_refresh_token(&tx, user_id, invitation.organization_id, Uuid::now_v7()).await?;
    tx.commit().await?;
    Ok(Session {
        user_id,
        org_id: invitation.organization_id,
        role,
        refresh_token,
        refresh_expires_at,
    })
}

enum Account {
    /// A new user with this password hash.
    New(String),
    /// A user who proved their current password.
    Existing(Uuid),
    /// A user without a password, setting this one.
    Claim(Uuid, String),
}

/// The user behind a principal, if it is a user.
pub async fn user_of(db: &Db, principal: &Principal) -> DomainResult<Option<users::Model>> {
    match principal.actor() {
        auth::Actor::User(id) => Ok(users::Entity::find_by_id(id).one(db.conn()).await?),
        auth::Actor::ApiKey(_) => Ok(None),
    }
}

/// The users among `ids` that are not disabled, by id (whoever is told something by email: a
/// reminder, a digest).
pub(crate) async fn enabled_users<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<Uuid>,
) -> DomainResult<std::collections::HashMap<Uuid, users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .filter(users::Column::DisabledAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_bounds() {
        assert!(check_password("p", "short").is_err());
        assert!(check_password("p", "long enough!").is_ok());
        assert!(check_password("p", &"x".repeat(201)).is_err());
    }

    #[tokio::test]
    async fn hashes_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong".into(), Some(hash)).await.unwrap());
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }
}
