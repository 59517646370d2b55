//! The organization's own objects: the organization itself, its chapters and its members.
//! Staff read them to show names instead of bare ids; `members:manage` changes them.

pub mod chapter_rules;
pub mod chapters;
pub mod invitations;
pub mod members;
pub mod operator;
pub mod senders;
pub mod settings;

use sea_orm::EntityTrait;
use turnout_entity::organizations;

use crate::DomainError;
use crate::auth::Principal;
use crate::db::Db;
use crate::error::DomainResult;

/// The caller's own organization. Any credential of it may read it.
pub async fn of(db: &Db, principal: &Principal) -> DomainResult<organizations::Model> {
    organizations::Entity::find_by_id(principal.org_id())
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))
}

/// `SUSPENDED` when the organization is suspended (or missing, which only a dangling row could
/// cause). Every credential and every public entry point of an organization passes here.
pub(crate) fn refuse_suspended(org: Option<&organizations::Model>) -> DomainResult<()> {
    match org {
        Some(org) if org.suspended_at.is_some() => Err(DomainError::Suspended(format!(
            "{} is suspended by the operator of this Turnout; ask them to resume it",
            org.name
        ))),
        Some(_) => Ok(()),
        None => Err(DomainError::not_found("organization")),
    }
}

/// The scope of a public action (a sign-up, an RSVP, a cancellation by token) in organization
/// `org_id`, refused while it is suspended.
pub(crate) async fn public_scope<C: sea_orm::ConnectionTrait>(
    conn: &C,
    org_id: uuid::Uuid,
) -> DomainResult<crate::auth::OrgScope> {
    let org = organizations::Entity::find_by_id(org_id).one(conn).await?;
    refuse_suspended(org.as_ref())?;
    Ok(crate::auth::OrgScope::public(org_id))
}

/// An organization's public face (its name and slug), for the public pages of its forms,
/// events and RSVPs. Nothing else of it is public. `SUSPENDED` while it is suspended, so every
/// page of it says so.
pub async fn public(db: &Db, id: uuid::Uuid) -> DomainResult<organizations::Model> {
    let org = organizations::Entity::find_by_id(id).one(db.conn()).await?;
    refuse_suspended(org.as_ref())?;
    org.ok_or(DomainError::not_found("organization"))
}

/// The organization a public listing is for: the one with `slug`, or without one the
/// deployment's first (the usual single-organization deployment links to `/events` bare).
pub async fn public_by_slug(db: &Db, slug: Option<&str>) -> DomainResult<organizations::Model> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let query = organizations::Entity::find();
    let query = match slug.map(str::trim).filter(|s| !s.is_empty()) {
        Some(slug) => query.filter(organizations::Column::Slug.eq(slug)),
        None => query
            .order_by_asc(organizations::Column::CreatedAt)
            .order_by_asc(organizations::Column::Id),
    };
    let org = query.one(db.conn()).await?;
    refuse_suspended(org.as_ref())?;
    org.ok_or(DomainError::not_found("organization"))
}
