//! The smallest useful plugin: tags the subject of a `test.ping` event. Used by the host's
//! tests as the "good plugin" that must keep working after every hostile one, and by the
//! benchmark to measure host overhead.

use turnout_plugin_sdk::prelude::*;

struct Trivial;

impl Plugin for Trivial {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-trivial", "0.1.0")
            .description("Tags the subject of a test.ping event with \"pinged\"")
            .handles(["test.ping"])
            .capabilities([Capability::WriteTags])
    }

    fn handle(event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        Ok(vec![Effect::add_tag(&event.subject_id, "pinged")])
    }
}

export_plugin!(Trivial);
