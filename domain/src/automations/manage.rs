//! Creating and changing automations: triggers must be among the plugin's declared kinds, grants
//! a subset of what it requests.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use turnout_entity::automations;
use uuid::Uuid;

use super::plugins::{PluginManifest, get_plugin_version};
use super::{CAPABILITIES, strings};
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};

/// A new automation.
#[derive(Clone, Debug)]
pub struct AutomationInput {
    pub name: String,
    pub plugin_version_id: Uuid,
    /// Event kinds that trigger it; empty means every kind the plugin declares.
    pub trigger_kinds: Vec<String>,
    /// `{"payload": {"key": value, …}}`: only events whose payload has these values.
    pub filter: Option<serde_json::Value>,
    pub config: serde_json::Value,
    /// Capabilities granted (contract names); `None` grants everything the plugin requests.
    pub grants: Option<Vec<String>>,
    pub enabled: bool,
}

/// Changes to an automation; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct AutomationPatch {
    pub name: Option<String>,
    pub plugin_version_id: Option<Uuid>,
    pub trigger_kinds: Option<Vec<String>>,
    /// `Some(None)` removes the filter.
    pub filter: Option<Option<serde_json::Value>>,
    pub config: Option<serde_json::Value>,
    pub grants: Option<Vec<String>>,
}

fn validate_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(DomainError::validation(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    Ok(name.to_owned())
}

fn validate_triggers(manifest: &PluginManifest, kinds: &[String]) -> DomainResult<Vec<String>> {
    if kinds.is_empty() {
        if manifest.handles.iter().any(|h| h == "*") {
            return Err(DomainError::validation(
                "triggerKinds",
                "the plugin handles every kind (`*`): name the kinds that trigger it",
            ));
        }
        return Ok(manifest.handles.clone());
    }
    let mut out: Vec<String> = Vec::new();
    for kind in kinds {
        let kind = kind.trim();
        if kind.is_empty() || kind.len() > 100 {
            return Err(DomainError::validation(
                "triggerKinds",
                "event kinds are 1 to 100 characters",
            ));
        }
        if !manifest.handles_kind(kind) {
            return Err(DomainError::validation(
                "triggerKinds",
                format!(
                    "the plugin does not handle `{kind}` (it handles: {})",
                    manifest.handles.join(", ")
                ),
            ));
        }
        if !out.iter().any(|k| k == kind) {
            out.push(kind.to_owned());
        }
    }
    Ok(out)
}

fn validate_grants(
    manifest: &PluginManifest,
    grants: Option<&[String]>,
) -> DomainResult<Vec<String>> {
    let Some(grants) = grants else {
        return Ok(manifest.capabilities.clone());
    };
    let mut out: Vec<String> = Vec::new();
    for g in grants {
        let g = g.trim();
        if !CAPABILITIES.contains(&g) {
            return Err(DomainError::validation(
                "grants",
                format!("unknown capability `{g}`"),
            ));
        }
        if !manifest.capabilities.iter().any(|c| c == g) {
            return Err(DomainError::validation(
                "grants",
                format!("capability `{g}` is granted but the plugin does not request it"),
            ));
        }
        if !out.iter().any(|c| c == g) {
            out.push(g.to_owned());
        }
    }
    Ok(out)
}

fn validate_filter(filter: Option<&serde_json::Value>) -> DomainResult<Option<serde_json::Value>> {
    let Some(filter) = filter.filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    let ok = filter.as_object().is_some_and(|o| {
        o.keys().all(|k| k == "payload") && o.get("payload").is_none_or(|p| p.is_object())
    });
    if !ok {
        return Err(DomainError::validation(
            "filter",
            "must look like {\"payload\": {\"key\": value, …}}",
        ));
    }
    Ok(Some(filter.clone()))
}

/// A JSON object of at most 64 KiB that the plugin's declared config schema accepts.
fn validate_config(manifest: &PluginManifest, config: &serde_json::Value) -> DomainResult<()> {
    if !config.is_object() {
        return Err(DomainError::validation("config", "must be a JSON object"));
    }
    if config.to_string().len() > 64 * 1024 {
        return Err(DomainError::validation("config", "must be at most 64 KiB"));
    }
    super::config_schema::check(&manifest.config_schema, config)
}

/// Creates an automation of the organization.
pub async fn create_automation(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    ctx: &RequestContext,
    input: AutomationInput,
) -> DomainResult<automations::Model> {
    let name = validate_name(&input.name)?;
    let version = get_plugin_version(db, scope, input.plugin_version_id)
        .await
        .map_err(|e| match e {
            DomainError::NotFound { .. } => {
                DomainError::validation("pluginVersionId", "no such plugin version")
            }
            e => e,
        })?;
    let manifest = PluginManifest::of(&version)?;
    let triggers = validate_triggers(&manifest, &input.trigger_kinds)?;
    let grants = validate_grants(&manifest, input.grants.as_deref())?;
    let filter = validate_filter(input.filter.as_ref())?;
    validate_config(&manifest, &input.config)?;
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let row = automations::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name),
        plugin_version_id: Set(version.id),
        trigger_kinds: Set(serde_json::json!(triggers)),
        filter: Set(filter),
        config: Set(input.config),
        granted_capabilities: Set(serde_json::json!(grants)),
        enabled: Set(input.enabled),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let fields = [
        "name",
        "plugin_version_id",
        "trigger_kinds",
        "filter",
        "config",
        "granted_capabilities",
        "enabled",
    ];
    audit::record(
        &tx,
        scope,
        ctx,
        "automation.create",
        "automation",
        Some(row.id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// One automation of the organization.
pub async fn get_automation(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    id: Uuid,
) -> DomainResult<automations::Model> {
    automations::Entity::find_by_id(id)
        .filter(automations::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("automation"))
}

/// The organization's automations, oldest first.
pub async fn list_automations(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
) -> DomainResult<Vec<automations::Model>> {
    Ok(automations::Entity::find()
        .filter(automations::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(automations::Column::Id)
        .all(db.conn())
        .await?)
}

/// Changes an automation. Triggers and grants are checked again against the (possibly new)
/// plugin version.
pub async fn update_automation(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    ctx: &RequestContext,
    id: Uuid,
    patch: AutomationPatch,
) -> DomainResult<automations::Model> {
    let current = get_automation(db, scope, id).await?;
    let version_id = patch.plugin_version_id.unwrap_or(current.plugin_version_id);
    let version = get_plugin_version(db, scope, version_id)
        .await
        .map_err(|e| match e {
            DomainError::NotFound { .. } => {
                DomainError::validation("pluginVersionId", "no such plugin version")
            }
            e => e,
        })?;
    let manifest = PluginManifest::of(&version)?;
    let triggers = patch
        .trigger_kinds
        .clone()
        .unwrap_or_else(|| strings(&current.trigger_kinds));
    let triggers = validate_triggers(&manifest, &triggers)?;
    let grants = patch
        .grants
        .clone()
        .unwrap_or_else(|| strings(&current.granted_capabilities));
    let grants = validate_grants(&manifest, Some(&grants))?;
    let mut fields = vec!["trigger_kinds", "granted_capabilities"];
    if patch.plugin_version_id.is_some() {
        fields.push("plugin_version_id");
    }
    let mut row = current.clone().into_active_model();
    if let Some(name) = &patch.name {
        fields.push("name");
        row.name = Set(validate_name(name)?);
    }
    if let Some(filter) = &patch.filter {
        fields.push("filter");
        row.filter = Set(validate_filter(filter.as_ref())?);
    }
    match patch.config {
        Some(config) => {
            fields.push("config");
            validate_config(&manifest, &config)?;
            row.config = Set(config);
        }
        // A new plugin version must accept the configuration it inherits.
        None if patch.plugin_version_id.is_some() => validate_config(&manifest, &current.config)?,
        None => {}
    }
    row.plugin_version_id = Set(version.id);
    row.trigger_kinds = Set(serde_json::json!(triggers));
    row.granted_capabilities = Set(serde_json::json!(grants));
    row.updated_at = Set(Utc::now());
    let tx = db.begin_write().await?;
    let row = row.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "automation.update",
        "automation",
        Some(id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Enables or disables an automation.
pub async fn set_enabled(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    ctx: &RequestContext,
    id: Uuid,
    enabled: bool,
) -> DomainResult<automations::Model> {
    let current = get_automation(db, scope, id).await?;
    let mut row = current.into_active_model();
    row.enabled = Set(enabled);
    row.updated_at = Set(Utc::now());
    let tx = db.begin_write().await?;
    let row = row.update(&tx).await?;
    let action = if enabled {
        "automation.enable"
    } else {
        "automation.disable"
    };
    audit::record(
        &tx,
        scope,
        ctx,
        action,
        "automation",
        Some(id),
        &["enabled"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}
