//! Union organizing: a workplace mapped as employers, worksites and nested units; who works
//! where (with the history); organizing campaigns with a 1–5 assessment scale; each worker's
//! standing in a campaign (assessment, card, petition, leader) with every assessment kept;
//! typed relationships between people; one-on-ones; and the wall chart with its structure
//! tests.
//!
//! This is the most sensitive data Turnout holds (an assessment must never reach an employer),
//! so every service here needs `organizing:read` or `organizing:write`, chapter limits apply to
//! every person it touches, wall-chart reads are audited, and its events reach only
//! `organizing:read` subscribers ([`crate::outbox::is_organizing`]).

pub mod campaigns;
pub mod csv;
pub mod employment;
pub mod one_on_ones;
pub mod relationships;
pub mod standing;
pub mod wall_chart;
pub mod workplaces;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use turnout_entity::people;
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::error::{DomainError, DomainResult};
use crate::people::visible;

/// A person the scope may see (chapter limits included); `field` names the input on refusal,
/// and another tenant's person is indistinguishable from one that does not exist.
pub(crate) async fn visible_person<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    field: &str,
    id: Uuid,
) -> DomainResult<people::Model> {
    people::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(conn)
        .await?
        .ok_or_else(|| DomainError::validation(field, "is not a person you can see"))
}

/// Checks a 1–5 level.
pub(crate) fn level(field: &str, level: i32) -> DomainResult<i16> {
    if (1..=5).contains(&level) {
        Ok(level as i16)
    } else {
        Err(DomainError::validation(field, "must be 1–5"))
    }
}

/// Ensures `ids` are all people the scope may see, in one statement.
pub(crate) async fn all_visible<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    ids: &[Uuid],
) -> DomainResult<Vec<people::Model>> {
    Ok(people::Entity::find()
        .filter(visible(scope))
        .filter(people::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}
