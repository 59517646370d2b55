//! Installing plugin versions: the component bytes as uploaded, with what the host found in them.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use turnout_entity::{plugin_versions, plugins};
use uuid::Uuid;

use super::CAPABILITIES;
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::{Db, is_unique_violation};
use crate::error::{DomainError, DomainResult};

/// What a plugin says about itself (its `describe`), as stored with each version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginManifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Event kinds the plugin handles (`*` for every kind).
    pub handles: Vec<String>,
    /// Capabilities the plugin requests (contract names).
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub config_schema: serde_json::Value,
}

impl PluginManifest {
    pub fn handles_kind(&self, kind: &str) -> bool {
        self.handles.iter().any(|h| h == "*" || h == kind)
    }

    pub(crate) fn of(version: &plugin_versions::Model) -> DomainResult<Self> {
        serde_json::from_value(version.manifest.clone())
            .map_err(|e| DomainError::internal(format!("stored plugin manifest: {e}")))
    }
}

/// A validated component to store (the API validated it with the plugin host).
#[derive(Clone, Debug)]
pub struct NewPluginVersion {
    pub component: Vec<u8>,
    pub sha256: String,
    pub contract_version: String,
    pub manifest: PluginManifest,
}

/// Installs a plugin version under `name` (default: the plugin's own name). Installing the same
/// bytes again returns the existing version; other bytes under an existing version number are a
/// conflict (versions are immutable).
pub async fn install_plugin_version(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    ctx: &RequestContext,
    name: Option<&str>,
    new: NewPluginVersion,
) -> DomainResult<(plugins::Model, plugin_versions::Model)> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(new.manifest.name.as_str())
        .to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(DomainError::validation(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    if let Some(bad) = new
        .manifest
        .capabilities
        .iter()
        .find(|c| !CAPABILITIES.contains(&c.as_str()))
    {
        return Err(DomainError::validation(
            "component",
            format!("the plugin requests an unknown capability `{bad}`"),
        ));
    }
    let manifest = serde_json::to_value(&new.manifest)
        .map_err(|e| DomainError::internal(format!("manifest: {e}")))?;
    for _ in 0..3 {
        let tx = db.begin_write().await?;
        let plugin = match plugins::Entity::find()
            .filter(plugins::Column::OrganizationId.eq(scope.org_id()))
            .filter(plugins::Column::Name.eq(&name))
            .one(&tx)
            .await?
        {
            Some(p) => p,
            None => {
                let res = plugins::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    organization_id: Set(scope.org_id()),
                    name: Set(name.clone()),
                    created_at: Set(Utc::now()),
                }
                .insert(&tx)
                .await;
                match res {
                    Ok(p) => p,
                    Err(e) if is_unique_violation(&e) => {
                        tx.rollback().await?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        if let Some(existing) = plugin_versions::Entity::find()
            .filter(plugin_versions::Column::PluginId.eq(plugin.id))
            .filter(plugin_versions::Column::Version.eq(&new.manifest.version))
            .one(&tx)
            .await?
        {
            tx.rollback().await?;
            if existing.sha256 == new.sha256 {
                return Ok((plugin, existing));
            }
            return Err(DomainError::Conflict(format!(
                "version {} of plugin `{name}` is already installed with other bytes; \
                 give the new build a new version",
                new.manifest.version
            )));
        }
        let res = plugin_versions::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(scope.org_id()),
            plugin_id: Set(plugin.id),
            version: Set(new.manifest.version.clone()),
            component: Set(new.component.clone()),
            sha256: Set(new.sha256.clone()),
            contract_version: Set(new.contract_version.clone()),
            manifest: Set(manifest.clone()),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await;
        match res {
            Ok(version) => {
                let fields = ["name", "version", "sha256", "contract_version", "manifest"];
                audit::record(
                    &tx,
                    scope,
                    ctx,
                    "plugin_version.install",
                    "plugin_version",
                    Some(version.id),
                    &fields,
                )
                .await?;
                tx.commit().await?;
                return Ok((plugin, version));
            }
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(
        "the plugin is being installed concurrently; retry".into(),
    ))
}

/// The organization's plugins, by name.
pub async fn list_plugins(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
) -> DomainResult<Vec<plugins::Model>> {
    Ok(plugins::Entity::find()
        .filter(plugins::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(plugins::Column::Name)
        .all(db.conn())
        .await?)
}

/// Versions of the organization's plugins (of one plugin if given), newest first.
pub async fn list_plugin_versions(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    plugin_id: Option<Uuid>,
) -> DomainResult<Vec<plugin_versions::Model>> {
    let mut q = plugin_versions::Entity::find()
        .filter(plugin_versions::Column::OrganizationId.eq(scope.org_id()));
    if let Some(p) = plugin_id {
        q = q.filter(plugin_versions::Column::PluginId.eq(p));
    }
    Ok(q.order_by_desc(plugin_versions::Column::Id)
        .all(db.conn())
        .await?)
}

/// One plugin version of the organization.
pub async fn get_plugin_version(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    id: Uuid,
) -> DomainResult<plugin_versions::Model> {
    plugin_versions::Entity::find_by_id(id)
        .filter(plugin_versions::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("plugin version"))
}
