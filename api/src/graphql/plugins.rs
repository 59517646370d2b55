//! Plugins: installing a WebAssembly component (validated by the plugin host) and listing what
//! is installed.

use async_graphql::{Context, ID, Json, Object, SimpleObject};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::auth::perm;
use turnout_domain::automations::{self, NewPluginVersion, PluginManifest};
use turnout_entity::{plugin_versions, plugins};
use turnout_plugin_host::HostError;

use super::context::{can, db, runner};
use crate::error::{GqlResult, invalid};
use crate::ids::parse_uuid;

/// An installed plugin (a name under which versions are installed).
#[derive(SimpleObject, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plugin {
    /// The plugin's id.
    pub id: ID,
    /// Its name in this organization.
    pub name: String,
    /// When it was first installed.
    pub created_at: DateTime<Utc>,
}

impl From<plugins::Model> for Plugin {
    fn from(p: plugins::Model) -> Self {
        Plugin {
            id: ID(p.id.to_string()),
            name: p.name,
            created_at: p.created_at,
        }
    }
}

/// One installed version of a plugin: the component and what it says about itself.
#[derive(SimpleObject, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginVersion {
    /// The version's id (automations run a version).
    pub id: ID,
    /// The plugin.
    pub plugin_id: ID,
    /// The plugin's own version.
    pub version: String,
    /// What the plugin says it does.
    pub description: String,
    /// Event kinds it handles (`*`: every kind).
    pub handles: Vec<String>,
    /// Capabilities it requests (`read-people`, `write-tags` …); an automation grants some or all.
    pub requested_capabilities: Vec<String>,
    /// The JSON Schema of its configuration.
    pub config_schema: Json<serde_json::Value>,
    /// The `turnout:automation` contract version it was built against.
    pub contract_version: String,
    /// The hex SHA-256 of the component.
    pub sha256: String,
    /// The component's size in bytes.
    pub size_bytes: i32,
    /// When it was installed.
    pub created_at: DateTime<Utc>,
}

impl From<plugin_versions::Model> for PluginVersion {
    fn from(v: plugin_versions::Model) -> Self {
        let manifest: Option<PluginManifest> = serde_json::from_value(v.manifest.clone()).ok();
        PluginVersion {
            id: ID(v.id.to_string()),
            plugin_id: ID(v.plugin_id.to_string()),
            description: manifest
                .as_ref()
                .map(|m| m.description.clone())
                .unwrap_or_default(),
            handles: manifest
                .as_ref()
                .map(|m| m.handles.clone())
                .unwrap_or_default(),
            requested_capabilities: manifest
                .as_ref()
                .map(|m| m.capabilities.clone())
                .unwrap_or_default(),
            config_schema: Json(manifest.map(|m| m.config_schema).unwrap_or_default()),
            version: v.version,
            contract_version: v.contract_version,
            sha256: v.sha256,
            size_bytes: i32::try_from(v.component.len()).unwrap_or(i32::MAX),
            created_at: v.created_at,
        }
    }
}

/// The result of `installPlugin` (and, as JSON, of `POST /plugins`).
#[derive(SimpleObject, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallPluginPayload {
    /// The plugin.
    pub plugin: Plugin,
    /// The version installed (or the same bytes installed before).
    pub version: PluginVersion,
}

/// Listing plugins.
#[derive(Default)]
pub struct PluginsQuery;

#[Object]
impl PluginsQuery {
    /// The organization's plugins. Needs `AUTOMATIONS_MANAGE`.
    async fn plugins(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plugin>> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let rows = automations::list_plugins(db(ctx), &scope).await.gql()?;
        Ok(rows.into_iter().map(Plugin::from).collect())
    }

    /// Installed plugin versions, newest first (of one plugin if given). Needs
    /// `AUTOMATIONS_MANAGE`.
    async fn plugin_versions(
        &self,
        ctx: &Context<'_>,
        plugin_id: Option<ID>,
    ) -> async_graphql::Result<Vec<PluginVersion>> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let plugin_id = plugin_id
            .as_ref()
            .map(|id| parse_uuid("pluginId", id))
            .transpose()?;
        let rows = automations::list_plugin_versions(db(ctx), &scope, plugin_id)
            .await
            .gql()?;
        Ok(rows.into_iter().map(PluginVersion::from).collect())
    }
}

/// Installing plugins.
#[derive(Default)]
pub struct PluginsMutation;

#[Object]
impl PluginsMutation {
    /// Install a plugin version: a WebAssembly component built for the `turnout:automation`
    /// contract (`turnout plugin build`), base64-encoded. It is validated and described by the
    /// plugin host; a component of an unsupported contract version is refused (VALIDATION).
    /// The answer shows the capabilities it requests, to grant in `createAutomation`. Needs
    /// `AUTOMATIONS_MANAGE`.
    async fn install_plugin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The name to install under; default: the plugin's own name.")]
        name: Option<String>,
        #[graphql(desc = "The component (`.wasm`), base64 (standard alphabet).")] component: String,
    ) -> async_graphql::Result<InstallPluginPayload> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(component.trim())
            .map_err(|_| invalid("component", "is not valid base64"))?;
        install(
            db(ctx),
            runner(ctx)?.host(),
            &scope,
            &super::audit::request_context(ctx),
            name.as_deref(),
            bytes,
        )
        .await
        .gql()
    }
}

/// Install a component: the plugin host validates and describes it (anything it refuses is a
/// VALIDATION on `component`, said as the host says it), then the domain records the version.
/// The one path for `installPlugin` and `POST /plugins`.
pub(crate) async fn install(
    db: &turnout_domain::db::Db,
    host: &turnout_plugin_host::PluginHost,
    scope: &turnout_domain::auth::Can<perm::AutomationsManage>,
    request: &turnout_domain::audit::RequestContext,
    name: Option<&str>,
    bytes: Vec<u8>,
) -> Result<InstallPluginPayload, DomainError> {
    let loaded = host.load(&bytes).await.map_err(|e| match e {
        HostError::Engine(_) | HostError::Cache(_) => {
            DomainError::internal(format!("plugin host: {e}"))
        }
        e => DomainError::validation("component", e.to_string()),
    })?;
    let info = loaded.describe();
    let manifest = PluginManifest {
        name: info.name.clone(),
        version: info.version.clone(),
        description: info.description.clone(),
        handles: info.handles.clone(),
        capabilities: info
            .capabilities
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        config_schema: info.config_schema.clone(),
    };
    let (plugin, version) = automations::install_plugin_version(
        db,
        scope,
        request,
        name,
        NewPluginVersion {
            sha256: loaded.sha256().to_owned(),
            contract_version: loaded.contract_version().to_owned(),
            component: bytes,
            manifest,
        },
    )
    .await?;
    Ok(InstallPluginPayload {
        plugin: plugin.into(),
        version: version.into(),
    })
}
