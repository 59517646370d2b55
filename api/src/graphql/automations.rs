//! Automations: a plugin version run on events of some kinds, with a config and grants; their
//! runs; dry runs and replays.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Can, perm};
use turnout_domain::automations::{self, AutomationInput, AutomationPatch, RunFilter, status};
use turnout_entity::{automation_runs, automations as automation_rows};
use turnout_plugin_host::{DryRunEvent, DryRunTarget};
use uuid::Uuid;

use super::context::{can, db, runner};
use crate::error::{GqlResult, invalid};
use crate::ids::parse_uuid;
use crate::ids::{decode_cursor, decode_global_id, encode_cursor};

/// An automation: a plugin version run on events of some kinds.
pub struct Automation(automation_rows::Model);

#[Object]
impl Automation {
    /// The automation's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The plugin version it runs.
    async fn plugin_version_id(&self) -> ID {
        ID(self.0.plugin_version_id.to_string())
    }

    /// Event kinds that trigger it.
    async fn trigger_kinds(&self) -> Vec<String> {
        string_list(&self.0.trigger_kinds)
    }

    /// Only events whose payload matches: `{"payload": {"key": value}}`.
    async fn filter(&self) -> Option<Json<serde_json::Value>> {
        self.0.filter.clone().map(Json)
    }

    /// The plugin's configuration.
    async fn config(&self) -> Json<serde_json::Value> {
        Json(self.0.config.clone())
    }

    /// Capabilities granted to the plugin.
    async fn granted_capabilities(&self) -> Vec<String> {
        string_list(&self.0.granted_capabilities)
    }

    /// Whether it runs.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

fn string_list(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// How a run ended.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AutomationRunStatus {
    /// Its effects were applied.
    Succeeded,
    /// Nothing was applied; see `error`.
    Failed,
}

impl AutomationRunStatus {
    fn as_str(self) -> &'static str {
        match self {
            AutomationRunStatus::Succeeded => status::SUCCEEDED,
            AutomationRunStatus::Failed => status::FAILED,
        }
    }
}

/// One run of an automation on one event.
pub struct AutomationRun(automation_runs::Model);

#[Object]
impl AutomationRun {
    /// The run's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The automation.
    async fn automation_id(&self) -> ID {
        ID(self.0.automation_id.to_string())
    }

    /// The domain event it handled.
    async fn event_id(&self) -> Option<ID> {
        self.0.event_id.map(|id| ID(id.to_string()))
    }

    /// How it ended.
    async fn status(&self) -> AutomationRunStatus {
        if self.0.status == status::SUCCEEDED {
            AutomationRunStatus::Succeeded
        } else {
            AutomationRunStatus::Failed
        }
    }

    /// The effects the plugin returned (applied if the run succeeded).
    async fn effects(&self) -> Json<serde_json::Value> {
        Json(self.0.effects.clone())
    }

    /// What the plugin logged.
    async fn logs(&self) -> Json<serde_json::Value> {
        Json(self.0.logs.clone())
    }

    /// Fuel consumed (≈ WebAssembly instructions).
    async fn fuel_used(&self) -> i64 {
        self.0.fuel_used
    }

    /// Wall-clock time of the plugin run, in microseconds.
    async fn duration_us(&self) -> i64 {
        self.0.duration_us
    }

    /// Why it failed (`CODE: message`).
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// How many times it ran (replays of a failed run add one).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// When it started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }

    /// When it finished.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// Filters of `automationRuns`; all given conditions hold.
#[derive(InputObject, Default)]
pub struct AutomationRunFilter {
    /// Runs of this automation.
    pub automation_id: Option<ID>,
    /// Runs that ended so.
    pub status: Option<AutomationRunStatus>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
}

/// A new automation.
#[derive(InputObject)]
pub struct CreateAutomationInput {
    /// A name for people.
    pub name: String,
    /// The plugin version to run (from `installPlugin` or `pluginVersions`).
    pub plugin_version_id: ID,
    /// Event kinds that trigger it (among those the plugin handles); default: all it handles.
    #[graphql(default)]
    pub trigger_kinds: Vec<String>,
    /// Only events whose payload matches: `{"payload": {"key": value}}`.
    pub filter: Option<Json<serde_json::Value>>,
    /// The plugin's configuration (a JSON object); default `{}`.
    pub config: Option<Json<serde_json::Value>>,
    /// Capabilities to grant (a subset of those requested); default: all requested.
    pub grants: Option<Vec<String>>,
    /// Whether it runs at once; default true.
    #[graphql(default = true)]
    pub enabled: bool,
}

/// Changes to an automation; absent fields stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateAutomationInput {
    pub name: Option<String>,
    /// Run another version (triggers and grants are checked against it).
    pub plugin_version_id: Option<ID>,
    pub trigger_kinds: Option<Vec<String>>,
    pub filter: Option<Json<serde_json::Value>>,
    /// Remove the filter.
    #[graphql(default)]
    pub clear_filter: bool,
    pub config: Option<Json<serde_json::Value>>,
    pub grants: Option<Vec<String>>,
}

/// A made-up event for a dry run.
#[derive(InputObject)]
pub struct SampleEventInput {
    /// The kind, e.g. `person.signed_up`.
    pub kind: String,
    /// What it is about: a person's ID (or a UUID).
    pub subject_id: ID,
    /// The payload (a JSON object); default `{}`.
    pub payload: Option<Json<serde_json::Value>>,
}

/// What a dry run would do. Nothing was applied or recorded.
#[derive(SimpleObject)]
pub struct DryRunResult {
    /// The effects the plugin returned (checked against the grants).
    pub effects: Json<serde_json::Value>,
    /// What it logged.
    pub logs: Json<serde_json::Value>,
    /// Fuel consumed.
    pub fuel_used: i64,
    /// Wall-clock time, in microseconds.
    pub duration_us: i64,
    /// Why it failed (`CODE: message`).
    pub error: Option<String>,
}

fn subject_uuid(id: &ID) -> async_graphql::Result<Uuid> {
    if let Ok(u) = Uuid::parse_str(id.as_str()) {
        return Ok(u);
    }
    decode_global_id("sampleEvent.subjectId", id).map(|(_, u)| u)
}

/// Reading automations and runs.
#[derive(Default)]
pub struct AutomationsQuery;

#[Object]
impl AutomationsQuery {
    /// The organization's automations. Needs `AUTOMATIONS_MANAGE`.
    async fn automations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Automation>> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let rows = automations::list_automations(db(ctx), &scope).await.gql()?;
        Ok(rows.into_iter().map(Automation).collect())
    }

    /// Runs of the organization's automations, newest first. Needs `AUTOMATIONS_MANAGE`.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn automation_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many runs (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Runs after this cursor (an `endCursor`).")] after: Option<String>,
        filter: Option<AutomationRunFilter>,
    ) -> async_graphql::Result<Connection<String, AutomationRun, RunTotals>> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let f = filter.unwrap_or_default();
        let filter = RunFilter {
            automation_id: f
                .automation_id
                .as_ref()
                .map(|id| parse_uuid("filter.automationId", id))
                .transpose()?,
            status: f.status.map(|s| s.as_str().to_owned()),
            from: f.from,
            to: f.to,
        };
        // The same page rules as every connection: `first: 0` is an empty page.
        let page = turnout_domain::people::PageRequest::new(first, after).gql()?;
        let (rows, more) = automations::list_runs(db(ctx), &scope, &filter, page)
            .await
            .gql()?;
        let mut connection =
            Connection::with_additional_fields(after.is_some(), more, RunTotals { scope, filter });
        connection.edges.extend(
            rows.into_iter()
                .map(|r| Edge::new(encode_cursor(r.id), AutomationRun(r))),
        );
        Ok(connection)
    }
}

/// Totals of a runs connection.
pub struct RunTotals {
    scope: Can<perm::AutomationsManage>,
    filter: RunFilter,
}

#[Object]
impl RunTotals {
    /// How many runs match the filter (all pages). One `COUNT` query.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        automations::count_runs(db(ctx), &self.scope, &self.filter)
            .await
            .gql()
    }
}

/// Changing automations, dry runs and replays.
#[derive(Default)]
pub struct AutomationsMutation;

#[Object]
impl AutomationsMutation {
    /// Create an automation: the plugin version runs on every committed event of the trigger
    /// kinds (that matches the filter). Triggers must be among the kinds the plugin handles and
    /// grants among the capabilities it requests. Needs `AUTOMATIONS_MANAGE`.
    async fn create_automation(
        &self,
        ctx: &Context<'_>,
        input: CreateAutomationInput,
    ) -> async_graphql::Result<Automation> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let row = automations::create_automation(
            db(ctx),
            &scope,
            &super::audit::request_context(ctx),
            AutomationInput {
                name: input.name,
                plugin_version_id: parse_uuid("input.pluginVersionId", &input.plugin_version_id)?,
                trigger_kinds: input.trigger_kinds,
                filter: input.filter.map(|j| j.0),
                config: input.config.map(|j| j.0).unwrap_or(serde_json::json!({})),
                grants: input.grants,
                enabled: input.enabled,
            },
        )
        .await
        .gql()?;
        Ok(Automation(row))
    }

    /// Change an automation. Needs `AUTOMATIONS_MANAGE`.
    async fn update_automation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateAutomationInput,
    ) -> async_graphql::Result<Automation> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let patch = AutomationPatch {
            name: input.name,
            plugin_version_id: input
                .plugin_version_id
                .as_ref()
                .map(|id| parse_uuid("input.pluginVersionId", id))
                .transpose()?,
            trigger_kinds: input.trigger_kinds,
            filter: if input.clear_filter {
                Some(None)
            } else {
                input.filter.map(|j| Some(j.0))
            },
            config: input.config.map(|j| j.0),
            grants: input.grants,
        };
        let row = automations::update_automation(
            db(ctx),
            &scope,
            &super::audit::request_context(ctx),
            parse_uuid("id", &id)?,
            patch,
        )
        .await
        .gql()?;
        Ok(Automation(row))
    }

    /// Turn an automation on. Needs `AUTOMATIONS_MANAGE`.
    async fn enable_automation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Automation> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let row = automations::set_enabled(
            db(ctx),
            &scope,
            &super::audit::request_context(ctx),
            parse_uuid("id", &id)?,
            true,
        )
        .await
        .gql()?;
        Ok(Automation(row))
    }

    /// Turn an automation off: events no longer trigger it. Needs `AUTOMATIONS_MANAGE`.
    async fn disable_automation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Automation> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let row = automations::set_enabled(
            db(ctx),
            &scope,
            &super::audit::request_context(ctx),
            parse_uuid("id", &id)?,
            false,
        )
        .await
        .gql()?;
        Ok(Automation(row))
    }

    /// Run a plugin on an event and show what it would do, applying and recording nothing.
    /// Give an automation (its config and grants; `config` overrides its config) or a plugin
    /// version (with `config` and `grants`, default all requested), and a stored event or a
    /// sample event. Needs `AUTOMATIONS_MANAGE`.
    #[allow(clippy::too_many_arguments)]
    async fn dry_run_automation(
        &self,
        ctx: &Context<'_>,
        automation_id: Option<ID>,
        plugin_version_id: Option<ID>,
        config: Option<Json<serde_json::Value>>,
        grants: Option<Vec<String>>,
        #[graphql(desc = "A stored domain event of the organization.")] event_id: Option<ID>,
        sample_event: Option<SampleEventInput>,
    ) -> async_graphql::Result<DryRunResult> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let target = match (automation_id, plugin_version_id) {
            (Some(a), None) => DryRunTarget::Automation {
                id: parse_uuid("automationId", &a)?,
                config: config.map(|j| j.0),
            },
            (None, Some(v)) => DryRunTarget::PluginVersion {
                id: parse_uuid("pluginVersionId", &v)?,
                config: config.map(|j| j.0).unwrap_or(serde_json::json!({})),
                grants,
            },
            _ => {
                return Err(invalid(
                    "automationId",
                    "give exactly one of automationId and pluginVersionId",
                ));
            }
        };
        let event = match (event_id, sample_event) {
            (Some(e), None) => DryRunEvent::Stored(parse_uuid("eventId", &e)?),
            (None, Some(s)) => DryRunEvent::Sample {
                kind: s.kind,
                subject_id: subject_uuid(&s.subject_id)?,
                payload: s.payload.map(|j| j.0).unwrap_or(serde_json::json!({})),
            },
            _ => {
                return Err(invalid(
                    "eventId",
                    "give exactly one of eventId and sampleEvent",
                ));
            }
        };
        let out = runner(ctx)?.dry_run(&scope, target, event).await.gql()?;
        Ok(DryRunResult {
            effects: Json(serde_json::to_value(&out.effects).unwrap_or_default()),
            logs: Json(serde_json::to_value(&out.logs).unwrap_or_default()),
            fuel_used: i64::try_from(out.fuel_used).unwrap_or(i64::MAX),
            duration_us: i64::try_from(out.duration.as_micros()).unwrap_or(i64::MAX),
            error: out.error,
        })
    }

    /// Run a failed run again: the automation as it is now, on the same event. Its effects are
    /// applied if it succeeds; the run's record is updated (one more attempt). Only failed runs
    /// can be replayed (CONFLICT otherwise). Needs `AUTOMATIONS_MANAGE`.
    async fn replay_automation_run(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
    ) -> async_graphql::Result<AutomationRun> {
        let scope = can::<perm::AutomationsManage>(ctx)?;
        let id = parse_uuid("runId", &run_id)?;
        runner(ctx)?.replay_run_in(&scope, id).await.gql()?;
        let run = automations::get_run(db(ctx), &scope, id).await.gql()?;
        Ok(AutomationRun(run))
    }
}
