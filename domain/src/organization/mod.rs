//! The organization's own objects: the organization itself, its chapters and its members.
//! Staff read them to show names instead of bare ids; `members:manage` changes them.

pub mod chapters;
pub mod invitations;
pub mod members;
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

/// An organization's public face (its name and slug), for the public pages of its forms,
/// events and RSVPs. Nothing else of it is public.
pub async fn public(db: &Db, id: uuid::Uuid) -> DomainResult<organizations::Model> {
    organizations::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))
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
    query
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("organization"))
}
