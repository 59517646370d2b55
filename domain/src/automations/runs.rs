//! Runs: finding the automations an event triggers, recording runs and applying their effects
//! (one transaction, keyed by (automation id, event id)), listing runs, replays.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use turnout_entity::{automation_runs, automations, domain_events, plugin_versions};
use uuid::Uuid;

use super::effects::{self, ApplyCtx, Effect};
use super::plugins::PluginManifest;
use super::{MAX_CAUSATION_DEPTH, status, strings};
use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox::Cause;
use crate::people::PageRequest;

/// A committed domain event, with the scope of its organization (the system acting there).
#[derive(Clone, Debug)]
pub struct EventContext {
    pub event: domain_events::Model,
    scope: OrgScope,
}

impl EventContext {
    /// The organization scope of the event: every query for its runs is limited to it.
    pub fn scope(&self) -> &OrgScope {
        &self.scope
    }
}

/// Loads an event by id (any organization: the caller is the system's dispatch job).
pub async fn load_event(db: &Db, event_id: Uuid) -> DomainResult<Option<EventContext>> {
    Ok(domain_events::Entity::find_by_id(event_id)
        .one(db.conn())
        .await?
        .map(|event| EventContext {
            scope: OrgScope::system(event.organization_id),
            event,
        }))
}

/// The plugin version an automation runs, without its component (fetched only when the
/// runner has not compiled it yet: see [`plugin_component`]).
#[derive(Clone, Debug)]
pub struct VersionRef {
    pub id: Uuid,
    pub sha256: String,
    pub contract_version: String,
}

impl From<&plugin_versions::Model> for VersionRef {
    fn from(v: &plugin_versions::Model) -> Self {
        VersionRef {
            id: v.id,
            sha256: v.sha256.clone(),
            contract_version: v.contract_version.clone(),
        }
    }
}

/// An automation with the plugin version it runs.
#[derive(Clone, Debug)]
pub struct Runnable {
    pub automation: automations::Model,
    pub version: VersionRef,
    pub manifest: PluginManifest,
}

impl Runnable {
    pub fn grants(&self) -> Vec<String> {
        strings(&self.automation.granted_capabilities)
    }
}

/// Whether an event passes an automation's filter (`{"payload": {"key": value}}`, equality).
pub fn filter_matches(filter: Option<&serde_json::Value>, payload: &serde_json::Value) -> bool {
    let Some(wanted) = filter
        .and_then(|f| f.get("payload"))
        .and_then(|p| p.as_object())
    else {
        return true;
    };
    wanted.iter().all(|(k, v)| payload.get(k) == Some(v))
}

/// The enabled automations of the event's organization that it triggers and that have not run
/// for it yet.
pub async fn automations_for_event(db: &Db, ctx: &EventContext) -> DomainResult<Vec<Runnable>> {
    let candidates = automations::Entity::find()
        .filter(automations::Column::OrganizationId.eq(ctx.event.organization_id))
        .filter(automations::Column::Enabled.eq(true))
        .order_by_asc(automations::Column::Id)
        .all(db.conn())
        .await?;
    let candidates: Vec<_> = candidates
        .into_iter()
        .filter(|a| {
            strings(&a.trigger_kinds)
                .iter()
                .any(|k| k == &ctx.event.kind)
        })
        .filter(|a| filter_matches(a.filter.as_ref(), &ctx.event.payload))
        .collect();
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let done: Vec<Uuid> = automation_runs::Entity::find()
        .select_only()
        .column(automation_runs::Column::AutomationId)
        .filter(automation_runs::Column::EventId.eq(ctx.event.id))
        .into_tuple()
        .all(db.conn())
        .await?;
    let mut out = Vec::new();
    for automation in candidates.into_iter().filter(|a| !done.contains(&a.id)) {
        out.push(load_runnable(db, automation).await?);
    }
    Ok(out)
}

/// An automation with its plugin version (which may not be of another organization).
pub async fn load_runnable(db: &Db, automation: automations::Model) -> DomainResult<Runnable> {
    let (id, sha256, contract_version, manifest): (Uuid, String, String, serde_json::Value) =
        plugin_versions::Entity::find_by_id(automation.plugin_version_id)
            .select_only()
            .column(plugin_versions::Column::Id)
            .column(plugin_versions::Column::Sha256)
            .column(plugin_versions::Column::ContractVersion)
            .column(plugin_versions::Column::Manifest)
            .filter(plugin_versions::Column::OrganizationId.eq(automation.organization_id))
            .into_tuple()
            .one(db.conn())
            .await?
            .ok_or_else(|| DomainError::not_found("plugin version"))?;
    let manifest = serde_json::from_value(manifest)
        .map_err(|e| DomainError::internal(format!("stored plugin manifest: {e}")))?;
    Ok(Runnable {
        automation,
        version: VersionRef {
            id,
            sha256,
            contract_version,
        },
        manifest,
    })
}

/// The component bytes of a plugin version (any organization: for the runner, which got the
/// version from an automation it is running).
pub async fn plugin_component(db: &Db, version_id: Uuid) -> DomainResult<Vec<u8>> {
    plugin_versions::Entity::find_by_id(version_id)
        .select_only()
        .column(plugin_versions::Column::Component)
        .into_tuple()
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("plugin version"))
}

/// What the plugin host reported about one run.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The effects (JSON objects with a `type`), as the host returned them.
    pub effects: Vec<serde_json::Value>,
    /// The log lines (JSON).
    pub logs: serde_json::Value,
    pub fuel_used: u64,
    pub duration_us: u64,
    /// Why the run failed in the sandbox (then `effects` is empty).
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// What became of a recorded run.
#[derive(Clone, Debug)]
pub enum RecordOutcome {
    /// The effects were applied; the run is recorded as succeeded.
    Succeeded(automation_runs::Model),
    /// Nothing was applied; the run is recorded as failed with its error.
    Failed(automation_runs::Model),
    /// The automation had already run for this event: nothing was done.
    AlreadyRun,
}

enum ApplyError {
    Rejected(String),
    Internal(DomainError),
}

impl From<DomainError> for ApplyError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Internal(_) => ApplyError::Internal(e),
            other => ApplyError::Rejected(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for ApplyError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApplyError::Internal(e.into())
    }
}

fn run_row(
    ctx: &EventContext,
    runnable: &Runnable,
    report: &RunReport,
    status: &str,
    error: Option<String>,
) -> automation_runs::ActiveModel {
    automation_runs::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(ctx.event.organization_id),
        automation_id: Set(runnable.automation.id),
        event_id: Set(Some(ctx.event.id)),
        status: Set(status.to_owned()),
        effects: Set(serde_json::Value::Array(report.effects.clone())),
        logs: Set(report.logs.clone()),
        fuel_used: Set(i64::try_from(report.fuel_used).unwrap_or(i64::MAX)),
        duration_us: Set(i64::try_from(report.duration_us).unwrap_or(i64::MAX)),
        error: Set(error),
        started_at: Set(report.started_at),
        finished_at: Set(Some(Utc::now())),
        attempts: Set(1),
    }
}

/// Inserts the run row unless one exists for (automation, event). Returns whether it did.
async fn insert_run(
    tx: &DatabaseTransaction,
    row: automation_runs::ActiveModel,
) -> DomainResult<bool> {
    let n = automation_runs::Entity::insert(row)
        .on_conflict_do_nothing_on([
            automation_runs::Column::AutomationId,
            automation_runs::Column::EventId,
        ])
        .exec_without_returning(tx)
        .await?;
    Ok(matches!(n, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

async fn find_run(
    db: &Db,
    automation_id: Uuid,
    event_id: Uuid,
) -> DomainResult<automation_runs::Model> {
    automation_runs::Entity::find()
        .filter(automation_runs::Column::AutomationId.eq(automation_id))
        .filter(automation_runs::Column::EventId.eq(event_id))
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::internal("the run just recorded is missing"))
}

/// Records a run of `runnable` for the event and, if the sandbox run succeeded, applies its
/// effects, all in one transaction with the run row. The run row is inserted first, with the
/// unique (automation id, event id) key: a second recording of the same pair does nothing.
/// An effect that is not granted, invalid or impossible fails the whole run: nothing applied,
/// the run recorded as failed with the error. `Err` only for infrastructure failures.
pub async fn record_run(
    db: &Db,
    ctx: &EventContext,
    runnable: &Runnable,
    report: RunReport,
) -> DomainResult<RecordOutcome> {
    if runnable.automation.organization_id != ctx.event.organization_id {
        return Err(DomainError::internal(
            "automation and event belong to different organizations",
        ));
    }
    if let Some(error) = &report.error {
        return record_failed(db, ctx, runnable, &report, error.clone()).await;
    }
    let tx = db.begin_write().await?;
    let row = run_row(ctx, runnable, &report, status::SUCCEEDED, None);
    if !insert_run(&tx, row).await? {
        tx.rollback().await?;
        return Ok(RecordOutcome::AlreadyRun);
    }
    match apply_all(&tx, ctx, runnable, &report.effects).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(RecordOutcome::Succeeded(
                find_run(db, runnable.automation.id, ctx.event.id).await?,
            ))
        }
        Err(ApplyError::Internal(e)) => {
            tx.rollback().await.ok();
            Err(e)
        }
        Err(ApplyError::Rejected(error)) => {
            tx.rollback().await?;
            record_failed(db, ctx, runnable, &report, error).await
        }
    }
}

async fn record_failed(
    db: &Db,
    ctx: &EventContext,
    runnable: &Runnable,
    report: &RunReport,
    error: String,
) -> DomainResult<RecordOutcome> {
    let tx = db.begin_write().await?;
    let row = run_row(ctx, runnable, report, status::FAILED, Some(error));
    if !insert_run(&tx, row).await? {
        tx.rollback().await?;
        return Ok(RecordOutcome::AlreadyRun);
    }
    tx.commit().await?;
    Ok(RecordOutcome::Failed(
        find_run(db, runnable.automation.id, ctx.event.id).await?,
    ))
}

/// Checks every effect against the grants and the chain depth, then applies them in order.
async fn apply_all(
    tx: &DatabaseTransaction,
    ctx: &EventContext,
    runnable: &Runnable,
    raw: &[serde_json::Value],
) -> Result<(), ApplyError> {
    let grants = runnable.grants();
    let mut parsed = Vec::with_capacity(raw.len());
    for (index, value) in raw.iter().enumerate() {
        let effect: Effect = serde_json::from_value(value.clone()).map_err(|e| {
            ApplyError::Rejected(format!("effect {index} is not a valid effect: {e}"))
        })?;
        let cap = effect.capability();
        if !grants.iter().any(|g| g == cap)
            || !runnable.manifest.capabilities.iter().any(|c| c == cap)
        {
            return Err(ApplyError::Rejected(format!(
                "effect {index} ({}) needs the `{cap}` capability, which is not granted: \
                 nothing of this run was applied",
                effect.kind()
            )));
        }
        parsed.push(effect);
    }
    let depth = ctx.event.depth + 1;
    if depth > MAX_CAUSATION_DEPTH && parsed.iter().any(Effect::emits_event) {
        return Err(ApplyError::Rejected(format!(
            "chain too deep: the effects would cause events at depth {depth}, past the limit of \
             {MAX_CAUSATION_DEPTH}; nothing of this run was applied"
        )));
    }
    for (index, effect) in parsed.iter().enumerate() {
        let actx = ApplyCtx {
            scope: &ctx.scope,
            event: &ctx.event,
            automation: &runnable.automation,
            namespace: &runnable.manifest.name,
            cause: Cause {
                event_id: ctx.event.id,
                depth: ctx.event.depth,
            },
            index,
        };
        effects::apply(tx, &actx, effect)
            .await
            .map_err(|e| match ApplyError::from(e) {
                ApplyError::Rejected(m) => ApplyError::Rejected(format!(
                    "effect {index} ({}) failed, nothing of this run was applied: {m}",
                    effect.kind()
                )),
                other => other,
            })?;
    }
    Ok(())
}

/// Filters of a run listing.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    pub automation_id: Option<Uuid>,
    pub status: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Runs of the organization, newest first, keyset-paginated. Returns the page and whether
/// more follow.
pub async fn list_runs(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    filter: &RunFilter,
    page: PageRequest,
) -> DomainResult<(Vec<automation_runs::Model>, bool)> {
    let first = page.first;
    let mut q = runs_matching(scope, filter);
    if let Some(after) = page.after {
        q = q.filter(automation_runs::Column::Id.lt(after));
    }
    let mut rows = q
        .order_by_desc(automation_runs::Column::Id)
        .limit(first + 1)
        .all(db.conn())
        .await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// How many runs match `filter` (all pages), in one statement.
pub async fn count_runs(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    filter: &RunFilter,
) -> DomainResult<u64> {
    Ok(runs_matching(scope, filter).count(db.conn()).await?)
}

fn runs_matching(
    scope: &Can<perm::AutomationsManage>,
    filter: &RunFilter,
) -> sea_orm::Select<automation_runs::Entity> {
    let mut q = automation_runs::Entity::find()
        .filter(automation_runs::Column::OrganizationId.eq(scope.org_id()));
    if let Some(a) = filter.automation_id {
        q = q.filter(automation_runs::Column::AutomationId.eq(a));
    }
    if let Some(s) = &filter.status {
        q = q.filter(automation_runs::Column::Status.eq(s.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(automation_runs::Column::StartedAt.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(automation_runs::Column::StartedAt.lt(to));
    }
    q
}

/// One run of the organization.
pub async fn get_run(
    db: &Db,
    scope: &Can<perm::AutomationsManage>,
    id: Uuid,
) -> DomainResult<automation_runs::Model> {
    automation_runs::Entity::find_by_id(id)
        .filter(automation_runs::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("automation run"))
}

/// A failed run to replay: the run, its event and its automation as it is now.
#[derive(Clone, Debug)]
pub struct ReplayTarget {
    pub run: automation_runs::Model,
    pub event: EventContext,
    pub runnable: Runnable,
}

/// What a replay of `run_id` needs. Only failed runs can be replayed (a failed run applied
/// nothing, so running it again cannot apply anything twice). `scope` limits it to the
/// caller's organization; `None` is the system (a job).
pub async fn replay_target(
    db: &Db,
    scope: Option<&Can<perm::AutomationsManage>>,
    run_id: Uuid,
) -> DomainResult<ReplayTarget> {
    let mut q = automation_runs::Entity::find_by_id(run_id);
    if let Some(s) = scope {
        q = q.filter(automation_runs::Column::OrganizationId.eq(s.org_id()));
    }
    let run = q
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("automation run"))?;
    if run.status != status::FAILED {
        return Err(DomainError::Conflict(format!(
            "only failed runs can be replayed; this one {}",
            run.status
        )));
    }
    let event_id = run
        .event_id
        .ok_or_else(|| DomainError::Conflict("the run's event no longer exists".into()))?;
    let event = load_event(db, event_id)
        .await?
        .ok_or_else(|| DomainError::Conflict("the run's event no longer exists".into()))?;
    let automation = automations::Entity::find_by_id(run.automation_id)
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("automation"))?;
    let runnable = load_runnable(db, automation).await?;
    Ok(ReplayTarget {
        run,
        event,
        runnable,
    })
}

/// Records a replay of a failed run in place (same row, same idempotency key, one more
/// attempt) and applies its effects if it succeeded. Only one replay of a failed run wins.
pub async fn record_replay(
    db: &Db,
    target: &ReplayTarget,
    report: RunReport,
) -> DomainResult<RecordOutcome> {
    let (ctx, runnable) = (&target.event, &target.runnable);
    let tx = db.begin_write().await?;
    let claim = |status: &str, error: Option<String>| {
        automation_runs::Entity::update_many()
            .col_expr(
                automation_runs::Column::Status,
                Expr::value(status.to_owned()),
            )
            .col_expr(
                automation_runs::Column::Effects,
                Expr::value(serde_json::Value::Array(report.effects.clone())),
            )
            .col_expr(
                automation_runs::Column::Logs,
                Expr::value(report.logs.clone()),
            )
            .col_expr(
                automation_runs::Column::FuelUsed,
                Expr::value(i64::try_from(report.fuel_used).unwrap_or(i64::MAX)),
            )
            .col_expr(
                automation_runs::Column::DurationUs,
                Expr::value(i64::try_from(report.duration_us).unwrap_or(i64::MAX)),
            )
            .col_expr(automation_runs::Column::Error, Expr::value(error))
            .col_expr(
                automation_runs::Column::StartedAt,
                Expr::value(report.started_at),
            )
            .col_expr(
                automation_runs::Column::FinishedAt,
                Expr::value(Some(Utc::now())),
            )
            .col_expr(
                automation_runs::Column::Attempts,
                Expr::col(automation_runs::Column::Attempts).add(1),
            )
            .filter(automation_runs::Column::Id.eq(target.run.id))
            .filter(automation_runs::Column::Status.eq(status::FAILED))
    };
    let (status, error) = match &report.error {
        Some(e) => (status::FAILED, Some(e.clone())),
        None => (status::SUCCEEDED, None),
    };
    let claimed = claim(status, error).exec(&tx).await?.rows_affected;
    if claimed == 0 {
        tx.rollback().await?;
        return Ok(RecordOutcome::AlreadyRun);
    }
    if report.error.is_none() {
        match apply_all(&tx, ctx, runnable, &report.effects).await {
            Ok(()) => {}
            Err(ApplyError::Internal(e)) => {
                tx.rollback().await.ok();
                return Err(e);
            }
            Err(ApplyError::Rejected(error)) => {
                tx.rollback().await?;
                let tx = db.begin_write().await?;
                claim(status::FAILED, Some(error)).exec(&tx).await?;
                tx.commit().await?;
                let run = get_run_any(db, target.run.id).await?;
                return Ok(RecordOutcome::Failed(run));
            }
        }
    }
    tx.commit().await?;
    let run = get_run_any(db, target.run.id).await?;
    Ok(if run.status == status::SUCCEEDED {
        RecordOutcome::Succeeded(run)
    } else {
        RecordOutcome::Failed(run)
    })
}

async fn get_run_any(db: &Db, id: Uuid) -> DomainResult<automation_runs::Model> {
    automation_runs::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or_else(|| DomainError::not_found("automation run"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::filter_matches;

    #[test]
    fn filters_match_payload_values_by_equality() {
        let payload = json!({"created": true, "form_slug": "volunteer", "n": 3});
        assert!(filter_matches(None, &payload));
        assert!(filter_matches(Some(&json!({})), &payload));
        assert!(filter_matches(Some(&json!({"payload": {}})), &payload));
        assert!(filter_matches(
            Some(&json!({"payload": {"created": true, "form_slug": "volunteer"}})),
            &payload
        ));
        assert!(!filter_matches(
            Some(&json!({"payload": {"created": false}})),
            &payload
        ));
        assert!(!filter_matches(
            Some(&json!({"payload": {"n": "3"}})),
            &payload
        ));
        assert!(!filter_matches(
            Some(&json!({"payload": {"missing": null}})),
            &payload
        ));
    }
}
