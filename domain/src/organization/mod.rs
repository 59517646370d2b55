//! The organization's own objects: the organization itself, its chapters and its members.
//! Staff read them to show names instead of bare ids; `members:manage` changes them.

pub mod chapters;
pub mod invitations;
pub mod members;

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
