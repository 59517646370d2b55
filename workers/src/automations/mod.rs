//! Automation runs for the job pipeline. The dispatch job calls
//! [`AutomationRunner::run_for_event`] for every committed domain event:
//!
//! ```ignore
//! let runner = AutomationRunner::new(db.clone(), host.clone()); // once per worker process
//! let summary = runner.run_for_event(event_id).await?;          // Err: retry the job
//! ```
//!
//! The runner lives in `turnout-plugin-host` (next to the database read model plugins query)
//! so that the API can share it for dry runs and replays without depending on the workers;
//! it is re-exported here as the workers' entry point.

pub use turnout_plugin_host::{
    AutomationRunResult, AutomationRunner, DbReadModel, DryRunEvent, DryRunOutcome, DryRunTarget,
    RunStatus, RunSummary,
};
