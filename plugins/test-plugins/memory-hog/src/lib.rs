//! Hostile: allocates and touches memory until the host's memory limit stops it.

use std::hint::black_box;
use turnout_plugin_sdk::prelude::*;

struct Hog;

impl Plugin for Hog {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-memory-hog", "0.1.0").handles(["test.ping"])
    }

    fn handle(_event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let chunk = vec![0xA5u8; 1 << 20];
            hoard.push(black_box(chunk));
            black_box(&hoard);
        }
    }
}

export_plugin!(Hog);
