//! Limits applied to every plugin and every run.

use std::path::PathBuf;
use std::time::Duration;

/// Limits on plugins and runs. The defaults suit automations: small, fast, many.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions) per run.
    pub fuel: u64,
    /// Wall-clock deadline per run (enforced by epoch interruption inside WebAssembly and by a
    /// timeout around host queries).
    pub deadline: Duration,
    /// How often the background ticker advances the engine epoch.
    pub epoch_tick: Duration,
    /// Maximum linear memory per memory of a plugin instance, in bytes.
    pub memory_bytes: usize,
    /// Maximum table elements per table.
    pub table_elements: usize,
    /// Concurrent plugin instances (the pooling allocator's slots). A run beyond this fails
    /// with a host error rather than allocating more.
    pub max_instances: u32,
    /// Largest accepted component, in bytes (`TURNOUT_PLUGIN_MAX_BYTES`). The default admits
    /// every supported language: Rust makes tens of kilobytes, JavaScript on QuickJS about
    /// 1 MB, on SpiderMonkey about 12 MB, and Python about 18 MB.
    pub max_component_bytes: usize,
    /// Largest event payload plus config, in bytes.
    pub max_input_bytes: usize,
    /// Largest total size of returned effects (their text), in bytes.
    pub max_output_bytes: usize,
    /// Most effects one run may return.
    pub max_effects: usize,
    /// Most log text one run may record (the rest is dropped and marked as truncated).
    pub max_log_bytes: usize,
    /// Most queries one run may make.
    pub max_queries: u32,
    /// Cap on `search-people` and `upcoming-shifts` results.
    pub max_results: u32,
    /// Longest delay of a scheduled follow-up.
    pub max_follow_up_delay: Duration,
    /// Directory for compiled artifacts (`Component::serialize`), keyed by the component's
    /// sha256 and the engine fingerprint. It must be private to the host: its files are loaded
    /// as native code. `None` keeps compiled plugins in memory only.
    pub cache_dir: Option<PathBuf>,
}

/// Events deeper than this in a causation chain are refused before they run. The domain owns
/// the limit (it refuses effects that would go deeper); this is the same number.
pub const MAX_CAUSATION_DEPTH: u32 = turnout_domain::automations::MAX_CAUSATION_DEPTH as u32;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 100_000_000,
            deadline: Duration::from_secs(1),
            epoch_tick: Duration::from_millis(10),
            memory_bytes: 32 << 20,
            table_elements: 20_000,
            max_instances: 64,
            max_component_bytes: 32 << 20,
            max_input_bytes: 256 << 10,
            max_output_bytes: 256 << 10,
            max_effects: 100,
            max_log_bytes: 64 << 10,
            max_queries: 100,
            max_results: 25,
            max_follow_up_delay: Duration::from_secs(90 * 24 * 3600),
            cache_dir: None,
        }
    }
}
