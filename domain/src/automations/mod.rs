//! Automations: installed plugin versions, automations (a plugin version + triggers + config +
//! grants), their runs, and applying the effects a run returns.
//!
//! The domain knows nothing of WebAssembly: the plugin host validates and runs components; the
//! domain stores what the host reported (`describe` output, sha256, contract version), checks
//! the admin's choices against it, and applies effects (plain data) in one transaction with the
//! run's record, keyed by (automation id, event id) so that nothing is applied twice.

mod config_schema;
pub mod effects;
mod follow_ups;
mod manage;
mod plugins;
pub mod read;
mod runs;

pub use follow_ups::fire_due_follow_ups;
pub use manage::{
    AutomationInput, AutomationPatch, create_automation, get_automation, list_automations,
    set_enabled, update_automation,
};
pub use plugins::{
    NewPluginVersion, PluginManifest, get_plugin_version, install_plugin_version,
    list_plugin_versions, list_plugins,
};
pub use runs::{
    EventContext, RecordOutcome, ReplayTarget, RunFilter, RunReport, Runnable, VersionRef,
    automations_for_event, count_runs, filter_matches, get_run, list_runs, load_event,
    load_runnable, plugin_component, record_replay, record_run, replay_target,
};

/// Events deeper than this in a causation chain are not caused by further effects: a run whose
/// effects would emit an event at a greater depth fails with "chain too deep".
pub const MAX_CAUSATION_DEPTH: i32 = crate::outbox::MAX_DEPTH;

/// The capabilities of the plugin contract, by their contract names.
pub const CAPABILITIES: [&str; 14] = [
    "read-people",
    "read-attendance",
    "read-shifts",
    "read-kv",
    "write-tags",
    "write-custom-fields",
    "write-ladder",
    "assign-point-person",
    "send-messages",
    "create-tasks",
    "rsvp-shifts",
    "schedule-follow-ups",
    "call-webhooks",
    "write-kv",
];

/// Run statuses as stored.
pub mod status {
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
}

/// A JSON array of strings as a `Vec<String>` (anything else is empty).
pub(crate) fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
