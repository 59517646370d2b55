//! Managing API keys: issue (shown once), list (never the secret), revoke. Needs `keys:manage`
//! (admins and owners); a key never grants more than its creator holds.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use turnout_entity::api_keys;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{self, Actor, NewApiKey, Scope};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::values::required_text;

/// The most keys one listing returns.
const MAX_KEYS_LISTED: u64 = 500;

/// Issues an API key in the principal's organization. The token is shown once.
pub async fn issue(
    db: &Db,
    scope: &Can<perm::KeysManage>,
    ctx: &RequestContext,
    name: &str,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
) -> DomainResult<NewApiKey> {
    let name = required_text("input.name", Some(name), 100)?;
    if scopes.is_empty() {
        return Err(DomainError::validation(
            "input.scopes",
            "must grant at least one scope",
        ));
    }
    if let Some(missing) = scopes.iter().find(|s| !scope.holds(**s)) {
        return Err(DomainError::Forbidden(format!(
            "cannot grant `{}`, which this credential does not hold",
            missing.as_str()
        )));
    }
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(DomainError::validation(
            "input.expiresAt",
            "must be in the future",
        ));
    }
    let created_by = match scope.actor() {
        Some(Actor::User(id)) => Some(id),
        Some(Actor::ApiKey(_)) | None => None,
    };
    let tx = db.begin_write().await?;
    let key =
        auth::create_api_key(&tx, scope.org_id(), &name, scopes, created_by, expires_at).await?;
    let fields = ["name", "scopes", "expires_at"];
    audit::record(
        &tx,
        scope,
        ctx,
        "api_key.create",
        "api_key",
        Some(key.id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// The organization's API keys, newest first (revoked and expired ones included).
pub async fn list(db: &Db, scope: &Can<perm::KeysManage>) -> DomainResult<Vec<api_keys::Model>> {
    use sea_orm::QuerySelect as _;
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::OrganizationId.eq(scope.org_id()))
        .order_by_desc(api_keys::Column::CreatedAt)
        .order_by_desc(api_keys::Column::Id)
        .limit(MAX_KEYS_LISTED)
        .all(db.conn())
        .await?)
}

/// Revokes a key of the organization; it stops working at once. Revoking twice is harmless.
pub async fn revoke(
    db: &Db,
    scope: &Can<perm::KeysManage>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<api_keys::Model> {
    let tx = db.begin_write().await?;
    let key = api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut active: api_keys::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    let key = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "api_key.revoke",
        "api_key",
        Some(key.id),
        &["revoked_at"],
    )
    .await?;
    crate::credential_cache::commit_change(db, tx).await?;
    Ok(key)
}

/// The scopes stored on a key row.
pub fn scopes_of(key: &api_keys::Model) -> Vec<Scope> {
    key.scopes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().and_then(Scope::parse))
                .collect()
        })
        .unwrap_or_default()
}
