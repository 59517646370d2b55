//! Hostile: spins forever. `black_box` keeps the optimizer from deleting the loop, so the host's
//! fuel or epoch deadline is what stops it.

use std::hint::black_box;
use turnout_plugin_sdk::prelude::*;

struct Spin;

impl Plugin for Spin {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-infinite-loop", "0.1.0").handles(["test.ping"])
    }

    fn handle(event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        let mut counter: u64 = black_box(event.causation_depth as u64);
        loop {
            counter = black_box(counter.wrapping_add(1));
            if black_box(counter) == u64::MAX {
                // Unreachable in practice; makes the loop's exit look possible to the compiler.
                return Ok(vec![]);
            }
        }
    }
}

export_plugin!(Spin);
