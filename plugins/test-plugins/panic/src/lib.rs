//! Hostile: panics in `handle` (a panic aborts, which traps; the message goes to stderr, which
//! the host captures into the run's error).

use turnout_plugin_sdk::prelude::*;

struct Panics;

impl Plugin for Panics {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-panic", "0.1.0").handles(["test.ping"])
    }

    fn handle(event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        panic!("deliberate panic while handling {}", event.kind);
    }
}

export_plugin!(Panics);
