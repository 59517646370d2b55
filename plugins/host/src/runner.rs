//! Running automations against the CRM's database: for a committed domain event, every enabled
//! automation of its organization that it triggers runs its plugin in the sandbox, and the
//! domain applies the effects in one transaction with the run's record. Also replays of failed
//! runs and dry runs (which apply nothing).
//!
//! The workers' dispatch job calls [`AutomationRunner::run_for_event`] for every committed
//! event; the API calls the dry-run and replay entry points. A plugin that fails, traps, loops
//! or asks for what it was not granted fails only its own run (recorded as failed); `Err` is
//! kept for infrastructure failures that deserve a retry of the job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use turnout_domain::auth::{Can, perm};
use turnout_domain::automations::{
    self as domain, EventContext, PluginManifest, RecordOutcome, RunReport, Runnable, VersionRef,
};
use turnout_domain::db::Db;
use turnout_domain::{DomainError, DomainResult};
use uuid::Uuid;

use crate::db_read_model::DbReadModel;
use crate::host::{LoadedPlugin, PluginHost, RunInput, RunOutcome};
use crate::types::{Capability, Effect, Event, Grants, LogLine};

/// How one automation's run for an event ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The effects were applied.
    Succeeded,
    /// Nothing was applied; the run is recorded with its error.
    Failed,
    /// The automation had already run for this event; nothing was done.
    AlreadyRun,
}

/// One automation's run.
#[derive(Clone, Debug, Serialize)]
pub struct AutomationRunResult {
    /// The automation.
    pub automation_id: Uuid,
    /// The recorded run (none when it had already run).
    pub run_id: Option<Uuid>,
    /// How it ended.
    pub status: RunStatus,
    /// Why it failed.
    pub error: Option<String>,
}

/// What [`AutomationRunner::run_for_event`] did for one event.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    /// The event.
    pub event_id: Uuid,
    /// One entry per automation the event triggered.
    pub runs: Vec<AutomationRunResult>,
}

impl RunSummary {
    /// Runs whose effects were applied.
    pub fn succeeded(&self) -> usize {
        self.count(RunStatus::Succeeded)
    }

    /// Runs recorded as failed.
    pub fn failed(&self) -> usize {
        self.count(RunStatus::Failed)
    }

    fn count(&self, status: RunStatus) -> usize {
        self.runs.iter().filter(|r| r.status == status).count()
    }
}

/// Which plugin a dry run runs: an automation as configured (optionally with another config),
/// or a plugin version with a config and grants (default: everything it requests).
#[derive(Clone, Debug)]
pub enum DryRunTarget {
    /// An automation of the organization.
    Automation {
        /// The automation.
        id: Uuid,
        /// A config to try instead of the automation's.
        config: Option<serde_json::Value>,
    },
    /// A plugin version of the organization.
    PluginVersion {
        /// The version.
        id: Uuid,
        /// The config.
        config: serde_json::Value,
        /// Capabilities granted (contract names); `None` grants all it requests.
        grants: Option<Vec<String>>,
    },
}

/// The event a dry run handles.
#[derive(Clone, Debug)]
pub enum DryRunEvent {
    /// A stored domain event of the organization.
    Stored(Uuid),
    /// A made-up event.
    Sample {
        /// Kind.
        kind: String,
        /// Subject.
        subject_id: Uuid,
        /// Payload (a JSON object).
        payload: serde_json::Value,
    },
}

/// What a dry run would do: nothing is applied or recorded.
#[derive(Clone, Debug, Serialize)]
pub struct DryRunOutcome {
    /// The effects the plugin returned (checked against the grants).
    pub effects: Vec<Effect>,
    /// What it logged.
    pub logs: Vec<LogLine>,
    /// Fuel used.
    pub fuel_used: u64,
    /// Duration.
    pub duration: Duration,
    /// Why it failed (`CODE: message`).
    pub error: Option<String>,
}

/// Runs automations for committed domain events. Cheap to share (`Arc`) between jobs.
pub struct AutomationRunner {
    db: Db,
    host: Arc<PluginHost>,
    plugins: Mutex<HashMap<String, LoadedPlugin>>,
}

impl std::fmt::Debug for AutomationRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutomationRunner")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

fn grants_of(names: &[String]) -> Grants {
    names
        .iter()
        .filter_map(|n| n.parse::<Capability>().ok())
        .collect()
}

fn host_event(ctx: &EventContext) -> Event {
    let e = &ctx.event;
    Event {
        id: e.id,
        kind: e.kind.clone(),
        subject_id: e.subject_id,
        occurred_at: e.occurred_at,
        payload: e.payload.clone(),
        causation_depth: u32::try_from(e.depth).unwrap_or(0),
    }
}

fn report(outcome: &RunOutcome, started_at: chrono::DateTime<Utc>) -> RunReport {
    RunReport {
        effects: outcome
            .effects
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        logs: serde_json::to_value(&outcome.logs).unwrap_or(serde_json::Value::Array(Vec::new())),
        fuel_used: outcome.fuel_used,
        duration_us: u64::try_from(outcome.duration.as_micros()).unwrap_or(u64::MAX),
        error: outcome.error.as_ref().map(|e| format!("{}: {e}", e.code())),
        started_at,
    }
}

fn failed_report(error: String, started_at: chrono::DateTime<Utc>) -> RunReport {
    RunReport {
        effects: Vec::new(),
        logs: serde_json::Value::Array(Vec::new()),
        fuel_used: 0,
        duration_us: 0,
        error: Some(error),
        started_at,
    }
}

fn result_of(automation_id: Uuid, outcome: RecordOutcome) -> AutomationRunResult {
    match outcome {
        RecordOutcome::Succeeded(run) => AutomationRunResult {
            automation_id,
            run_id: Some(run.id),
            status: RunStatus::Succeeded,
            error: None,
        },
        RecordOutcome::Failed(run) => AutomationRunResult {
            automation_id,
            run_id: Some(run.id),
            status: RunStatus::Failed,
            error: run.error,
        },
        RecordOutcome::AlreadyRun => AutomationRunResult {
            automation_id,
            run_id: None,
            status: RunStatus::AlreadyRun,
            error: None,
        },
    }
}

impl AutomationRunner {
    /// A runner over `db`, running plugins on `host`.
    pub fn new(db: Db, host: Arc<PluginHost>) -> Self {
        AutomationRunner {
            db,
            host,
            plugins: Mutex::new(HashMap::new()),
        }
    }

    /// The plugin host.
    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// Runs every enabled automation the event triggers (in its organization, trigger kinds
    /// and filter matching) that has not run for it yet, and records each run. Plugin failures
    /// are recorded as failed runs; `Err` means the database failed and the job should retry.
    pub async fn run_for_event(&self, event_id: Uuid) -> anyhow::Result<RunSummary> {
        let mut summary = RunSummary {
            event_id,
            runs: Vec::new(),
        };
        let Some(ctx) = domain::load_event(&self.db, event_id).await? else {
            tracing::warn!(%event_id, "no such event; nothing to run");
            return Ok(summary);
        };
        let runnables = domain::automations_for_event(&self.db, &ctx).await?;
        for runnable in runnables {
            let automation_id = runnable.automation.id;
            let started_at = Utc::now();
            let report = match self.plugin(&runnable.version).await? {
                Ok(plugin) => {
                    let outcome = self
                        .execute(
                            &plugin,
                            &ctx,
                            &runnable.manifest,
                            &runnable.grants(),
                            runnable.automation.config.clone(),
                        )
                        .await;
                    report(&outcome, started_at)
                }
                Err(e) => failed_report(format!("LOAD_FAILED: {e}"), started_at),
            };
            let outcome = domain::record_run(&self.db, &ctx, &runnable, report).await?;
            let result = result_of(automation_id, outcome);
            if result.status == RunStatus::Failed {
                tracing::info!(%event_id, %automation_id, error = ?result.error, "automation run failed");
            }
            summary.runs.push(result);
        }
        Ok(summary)
    }

    /// Replays a failed run (any organization: for jobs and operators): runs the automation as
    /// it is now on the run's event and records the outcome in the same run row.
    pub async fn replay_run(&self, run_id: Uuid) -> anyhow::Result<AutomationRunResult> {
        Ok(self.replay(None, run_id).await?)
    }

    /// [`Self::replay_run`] limited to the caller's organization.
    pub async fn replay_run_in(
        &self,
        scope: &Can<perm::AutomationsManage>,
        run_id: Uuid,
    ) -> DomainResult<AutomationRunResult> {
        self.replay(Some(scope), run_id).await
    }

    async fn replay(
        &self,
        scope: Option<&Can<perm::AutomationsManage>>,
        run_id: Uuid,
    ) -> DomainResult<AutomationRunResult> {
        let target = domain::replay_target(&self.db, scope, run_id).await?;
        let runnable: &Runnable = &target.runnable;
        let started_at = Utc::now();
        let report = match self.plugin(&runnable.version).await? {
            Ok(plugin) => {
                let outcome = self
                    .execute(
                        &plugin,
                        &target.event,
                        &runnable.manifest,
                        &runnable.grants(),
                        runnable.automation.config.clone(),
                    )
                    .await;
                report(&outcome, started_at)
            }
            Err(e) => failed_report(format!("LOAD_FAILED: {e}"), started_at),
        };
        let outcome = domain::record_replay(&self.db, &target, report).await?;
        if matches!(outcome, RecordOutcome::AlreadyRun) {
            return Err(DomainError::Conflict(
                "the run was replayed concurrently".into(),
            ));
        }
        Ok(result_of(runnable.automation.id, outcome))
    }

    /// Runs a plugin on an event without applying or recording anything.
    pub async fn dry_run(
        &self,
        scope: &Can<perm::AutomationsManage>,
        target: DryRunTarget,
        event: DryRunEvent,
    ) -> DomainResult<DryRunOutcome> {
        let (version, manifest, grants, config) = match target {
            DryRunTarget::Automation { id, config } => {
                let automation = domain::get_automation(&self.db, scope, id).await?;
                let r = domain::load_runnable(&self.db, automation).await?;
                let grants = r.grants();
                let config = config.unwrap_or_else(|| r.automation.config.clone());
                (r.version, r.manifest, grants, config)
            }
            DryRunTarget::PluginVersion { id, config, grants } => {
                let version = domain::get_plugin_version(&self.db, scope, id).await?;
                let manifest: PluginManifest = serde_json::from_value(version.manifest.clone())
                    .map_err(|e| DomainError::internal(format!("stored manifest: {e}")))?;
                let grants = grants.unwrap_or_else(|| manifest.capabilities.clone());
                if let Some(g) = grants.iter().find(|g| !manifest.capabilities.contains(g)) {
                    return Err(DomainError::validation(
                        "grants",
                        format!("capability `{g}` is granted but the plugin does not request it"),
                    ));
                }
                (VersionRef::from(&version), manifest, grants, config)
            }
        };
        let ctx_event = match event {
            DryRunEvent::Stored(id) => {
                let ctx = domain::load_event(&self.db, id)
                    .await?
                    .filter(|c| c.event.organization_id == scope.org_id())
                    .ok_or_else(|| DomainError::not_found("event"))?;
                host_event(&ctx)
            }
            DryRunEvent::Sample {
                kind,
                subject_id,
                payload,
            } => {
                if !payload.is_object() {
                    return Err(DomainError::validation(
                        "sampleEvent.payload",
                        "must be a JSON object",
                    ));
                }
                Event {
                    id: Uuid::now_v7(),
                    kind,
                    subject_id,
                    occurred_at: Utc::now(),
                    payload,
                    causation_depth: 0,
                }
            }
        };
        let plugin = self
            .plugin(&version)
            .await?
            .map_err(|e| DomainError::validation("plugin", e))?;
        let outcome = self
            .host
            .run(
                &plugin,
                RunInput {
                    org_id: scope.org_id(),
                    event: ctx_event,
                    config,
                    grants: grants_of(&grants),
                    kv_namespace: Some(manifest.name.clone()),
                },
                Arc::new(DbReadModel::new(self.db.clone(), (**scope).clone())),
            )
            .await;
        Ok(DryRunOutcome {
            error: outcome.error.as_ref().map(|e| format!("{}: {e}", e.code())),
            effects: outcome.effects,
            logs: outcome.logs,
            fuel_used: outcome.fuel_used,
            duration: outcome.duration,
        })
    }

    async fn execute(
        &self,
        plugin: &LoadedPlugin,
        ctx: &EventContext,
        manifest: &PluginManifest,
        grants: &[String],
        config: serde_json::Value,
    ) -> RunOutcome {
        self.host
            .run(
                plugin,
                RunInput {
                    org_id: ctx.event.organization_id,
                    event: host_event(ctx),
                    config,
                    grants: grants_of(grants),
                    kv_namespace: Some(manifest.name.clone()),
                },
                Arc::new(DbReadModel::new(self.db.clone(), ctx.scope().clone())),
            )
            .await
    }

    /// The compiled plugin of a version, cached by sha256 (the component is read from the
    /// database only on a miss).
    /// The outer error is the database's (retry); the inner one the host's (a failed run).
    async fn plugin(&self, version: &VersionRef) -> DomainResult<Result<LoadedPlugin, String>> {
        if let Some(p) = self
            .plugins
            .lock()
            .ok()
            .and_then(|c| c.get(&version.sha256).cloned())
        {
            return Ok(Ok(p));
        }
        let bytes = domain::plugin_component(&self.db, version.id).await?;
        let plugin = match self.host.load(&bytes).await {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if let Ok(mut cache) = self.plugins.lock() {
            cache.insert(version.sha256.clone(), plugin.clone());
        }
        Ok(Ok(plugin))
    }
}
