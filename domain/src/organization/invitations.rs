//! Pending invitations: listed, cancelled, or issued again with a new token (until Turnout
//! sends email, the inviter hands the token over, and a lost one is replaced this way).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::invitations;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{self, Can, Role, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::identity::{INVITATION_PREFIX, INVITATION_TTL, NewInvitation};

/// An invitation not yet accepted and not expired.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub chapter_ids: Vec<Uuid>,
    pub invited_by_user_id: Option<Uuid>,
    pub expires_at: chrono::DateTime<Utc>,
    pub created_at: chrono::DateTime<Utc>,
}

/// The pending invitations, oldest first. A caller limited to chapters sees those into its
/// chapters only. Needs `members:manage`.
pub async fn pending(db: &Db, scope: &Can<perm::MembersManage>) -> DomainResult<Vec<Pending>> {
    let rows = invitations::Entity::find()
        .filter(invitations::Column::OrganizationId.eq(scope.org_id()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(invitations::Column::CreatedAt)
        .order_by_asc(invitations::Column::Id)
        .all(db.conn())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let pending = to_pending(row)?;
        if visible(scope, &pending) {
            out.push(pending);
        }
    }
    Ok(out)
}

/// Cancels a pending invitation: its token stops working. Audited as `invitation.cancel`.
pub async fn cancel(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<()> {
    let tx = db.begin_write().await?;
    let row = find_pending(&tx, scope, id).await?;
    invitations::Entity::delete_by_id(row.id).exec(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "invitation.cancel",
        "invitation",
        Some(id),
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a pending invitation again: a new token and a new expiry; the old token stops
/// working. The caller must be able to invite into that role itself. Audited as
/// `invitation.reissue`.
pub async fn reissue(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    links: &crate::links::PublicLinks,
    id: Uuid,
) -> DomainResult<NewInvitation> {
    let tx = db.begin_write().await?;
    let row = find_pending(&tx, scope, id).await?;
    let pending = to_pending(row.clone())?;
    super::members::grants_only_what_it_holds(scope, pending.role)?;
    let token = format!("{INVITATION_PREFIX}{}", auth::random_token(32));
    let expires_at = Utc::now() + INVITATION_TTL;
    let mut active: invitations::ActiveModel = row.into();
    active.token_hash = Set(auth::hash_secret(&token));
    active.expires_at = Set(expires_at);
    active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "invitation.reissue",
        "invitation",
        Some(id),
        &["token", "expires_at"],
    )
    .await?;
    let invitation = NewInvitation {
        id,
        email: pending.email,
        role: pending.role,
        chapter_ids: pending.chapter_ids,
        token,
        expires_at,
    };
    crate::identity::email_invitation(&tx, scope, links, &invitation).await?;
    tx.commit().await?;
    Ok(invitation)
}

async fn find_pending<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &Can<perm::MembersManage>,
    id: Uuid,
) -> DomainResult<invitations::Model> {
    let row = invitations::Entity::find_by_id(id)
        .filter(invitations::Column::OrganizationId.eq(scope.org_id()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("invitation"))?;
    if !visible(scope, &to_pending(row.clone())?) {
        return Err(DomainError::not_found("invitation"));
    }
    Ok(row)
}

/// A caller limited to chapters sees invitations into its chapters only.
fn visible(scope: &Can<perm::MembersManage>, pending: &Pending) -> bool {
    match scope.chapters() {
        None => true,
        Some(own) => {
            !pending.chapter_ids.is_empty() && pending.chapter_ids.iter().all(|c| own.contains(c))
        }
    }
}

fn to_pending(row: invitations::Model) -> DomainResult<Pending> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", row.role)))?;
    let chapter_ids: Vec<Uuid> =
        serde_json::from_value(row.chapter_ids).map_err(DomainError::internal)?;
    Ok(Pending {
        id: row.id,
        email: row.email,
        role,
        chapter_ids,
        invited_by_user_id: row.invited_by_user_id,
        expires_at: row.expires_at,
        created_at: row.created_at,
    })
}
