//! Hostile: executes a WebAssembly `unreachable` instruction (a trap) in `handle`.

use turnout_plugin_sdk::prelude::*;

struct Trap;

impl Plugin for Trap {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-trap", "0.1.0").handles(["test.ping"])
    }

    fn handle(_event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
        #[cfg(not(target_arch = "wasm32"))]
        unreachable!("only built for wasm32")
    }
}

export_plugin!(Trap);
