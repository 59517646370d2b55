//! The organization's members: who they are, their role and the chapters they are limited to,
//! and changing their role or removing them.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use turnout_entity::{membership_chapters, memberships, refresh_tokens, users};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, Role, Scope, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};

/// A member of the organization.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The chapters the member is limited to; empty means the whole organization.
    pub chapter_ids: Vec<Uuid>,
    /// A member disabled here (or whose account the deployment disabled) cannot sign in.
    pub disabled: bool,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

/// Every member, oldest first: two statements whatever their number. A caller limited to
/// chapters sees the members who share one of its chapters.
pub async fn list(db: &Db, scope: &Can<perm::MembersManage>) -> DomainResult<Vec<Member>> {
    load(db, scope, None).await
}

/// The members (all, or the one user), with their users and chapters.
async fn load(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    user_id: Option<Uuid>,
) -> DomainResult<Vec<Member>> {
    let mut q =
        memberships::Entity::find().filter(memberships::Column::OrganizationId.eq(scope.org_id()));
    if let Some(user_id) = user_id {
        q = q.filter(memberships::Column::UserId.eq(user_id));
    }
    let rows = q
        .find_also_related(users::Entity)
        .order_by_asc(memberships::Column::CreatedAt)
        .order_by_asc(memberships::Column::Id)
        .all(db.conn())
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|(m, _)| m.id).collect();
    let mut chapters: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for link in membership_chapters::Entity::find()
        .filter(membership_chapters::Column::MembershipId.is_in(ids))
        .order_by_asc(membership_chapters::Column::ChapterId)
        .all(db.conn())
        .await?
    {
        chapters
            .entry(link.membership_id)
            .or_default()
            .push(link.chapter_id);
    }
    let mut members = Vec::with_capacity(rows.len());
    for (membership, user) in rows {
        let user = user.ok_or_else(|| DomainError::internal("a membership without its user"))?;
        let role = Role::parse(&membership.role)
            .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", membership.role)))?;
        let chapter_ids = chapters.remove(&membership.id).unwrap_or_default();
        if let Some(own) = scope.chapters()
            && !chapter_ids.iter().any(|c| own.contains(c))
        {
            continue;
        }
        members.push(Member {
            user_id: user.id,
            email: user.email,
            name: user.name,
            role,
            chapter_ids,
            disabled: membership.disabled_at.is_some() || user.disabled_at.is_some(),
            joined_at: membership.created_at,
        });
    }
    Ok(members)
}

// --- changing members -------------------------------------------------------------------------

/// Changes a member's role. The caller grants nothing it does not hold (every scope of the new
/// role), only an owner changes an owner, and the last owner stays an owner. Needs
/// `members:manage` for the whole organization; audited as `membership.role`.
pub async fn change_role(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    user_id: Uuid,
    role: Role,
) -> DomainResult<Member> {
    whole_organization(scope, "change roles")?;
    grants_only_what_it_holds(scope, role)?;
    let tx = db.begin_write().await?;
    let membership = membership_of(&tx, scope, user_id).await?;
    let current = role_of(&membership)?;
    owners_stay(&tx, scope, current, Some(role)).await?;
    let mut active: memberships::ActiveModel = membership.clone().into();
    active.role = Set(role.as_str().to_owned());
    active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "membership.role",
        "user",
        Some(user_id),
        &["role"],
    )
    .await?;
    crate::credential_cache::commit_change(db, tx).await?;
    load(db, scope, Some(user_id))
        .await?
        .pop()
        .ok_or(DomainError::not_found("member"))
}

/// Removes a member from the organization (their account stays, with its other
/// memberships), and ends their sessions in it. The rules of [`change_role`] hold: only an
/// owner removes an owner, and the last owner stays. Audited as `membership.remove`.
pub async fn remove(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    user_id: Uuid,
) -> DomainResult<()> {
    whole_organization(scope, "remove members")?;
    let tx = db.begin_write().await?;
    let membership = membership_of(&tx, scope, user_id).await?;
    owners_stay(&tx, scope, role_of(&membership)?, None).await?;
    memberships::Entity::delete_by_id(membership.id)
        .exec(&tx)
        .await?;
    revoke_sessions(&tx, scope, user_id, Utc::now()).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "membership.remove",
        "user",
        Some(user_id),
        &[],
    )
    .await?;
    crate::credential_cache::commit_change(db, tx).await?;
    Ok(())
}

/// Disables a member in this organization: they keep their role, chapters and the people
/// and tasks assigned to them, but cannot sign in to it, and their sessions and access tokens
/// in it stop working at once. Their account and other memberships stay. The rules of
/// [`change_role`] hold (only an owner disables an owner, and one enabled owner stays), and
/// nobody disables themselves. Audited as `membership.disable`; disabling a disabled member
/// changes nothing.
pub async fn disable(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    user_id: Uuid,
) -> DomainResult<Member> {
    whole_organization(scope, "disable members")?;
    if scope.actor_ids().0 == Some(user_id) {
        return Err(DomainError::Forbidden(
            "you cannot disable yourself; another member who manages members can".into(),
        ));
    }
    set_disabled(db, scope, ctx, user_id, true).await
}

/// Enables a disabled member again: they sign in with their role and chapters as they were.
/// Audited as `membership.enable`; enabling an enabled member changes nothing.
pub async fn enable(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    user_id: Uuid,
) -> DomainResult<Member> {
    whole_organization(scope, "enable members")?;
    set_disabled(db, scope, ctx, user_id, false).await
}

async fn set_disabled(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    user_id: Uuid,
    disabled: bool,
) -> DomainResult<Member> {
    let tx = db.begin_write().await?;
    let membership = membership_of(&tx, scope, user_id).await?;
    if membership.disabled_at.is_some() != disabled {
        let role = role_of(&membership)?;
        if disabled {
            owners_stay(&tx, scope, role, None).await?;
        } else if role == Role::Owner && !scope.holds(Scope::Admin) {
            return Err(DomainError::Forbidden(
                "only an owner changes or removes an owner".into(),
            ));
        }
        let now = Utc::now();
        let mut active: memberships::ActiveModel = membership.into();
        active.disabled_at = Set(disabled.then_some(now));
        active.update(&tx).await?;
        if disabled {
            revoke_sessions(&tx, scope, user_id, now).await?;
        }
        let action = if disabled {
            "membership.disable"
        } else {
            "membership.enable"
        };
        audit::record(
            &tx,
            scope,
            ctx,
            action,
            "user",
            Some(user_id),
            &["disabled_at"],
        )
        .await?;
        crate::credential_cache::commit_change(db, tx).await?;
    } else {
        tx.commit().await?;
    }
    load(db, scope, Some(user_id))
        .await?
        .pop()
        .ok_or(DomainError::not_found("member"))
}

/// Ends the user's sessions in the organization: their refresh tokens stop working (their
/// access tokens stop with the membership check on every request).
async fn revoke_sessions<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    user_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> DomainResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::OrganizationId.eq(scope.org_id()))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

fn whole_organization(scope: &Can<perm::MembersManage>, what: &str) -> DomainResult<()> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(format!(
            "a caller limited to chapters cannot {what}"
        )));
    }
    Ok(())
}

pub(crate) fn grants_only_what_it_holds(
    scope: &Can<perm::MembersManage>,
    role: Role,
) -> DomainResult<()> {
    match role.scopes().iter().find(|s| !scope.holds(**s)) {
        Some(missing) => Err(DomainError::Forbidden(format!(
            "the {} role grants `{}`, which this credential does not hold",
            role.as_str(),
            missing.as_str()
        ))),
        None => Ok(()),
    }
}

async fn membership_of<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    user_id: Uuid,
) -> DomainResult<memberships::Model> {
    memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("member"))
}

fn role_of(membership: &memberships::Model) -> DomainResult<Role> {
    Role::parse(&membership.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", membership.role)))
}

/// An owner is changed only by an owner (`admin`), and the organization keeps at least one
/// enabled owner: `to` is the owner's new role, `None` when they are removed or disabled.
async fn owners_stay<C: ConnectionTrait>(
    conn: &C,
    scope: &Can<perm::MembersManage>,
    current: Role,
    to: Option<Role>,
) -> DomainResult<()> {
    if current != Role::Owner {
        return Ok(());
    }
    if !scope.holds(Scope::Admin) {
        return Err(DomainError::Forbidden(
            "only an owner changes or removes an owner".into(),
        ));
    }
    if to == Some(Role::Owner) {
        return Ok(());
    }
    let owners = memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .filter(memberships::Column::DisabledAt.is_null())
        .count(conn)
        .await?;
    if owners <= 1 {
        return Err(DomainError::Conflict(
            "this is the organization's last owner; make another member owner first".into(),
        ));
    }
    Ok(())
}
