//! Hostile: returns a tag (which it asks for) and a message (which it never asked for, so an
//! admin cannot have granted it). The whole run must fail and return no effects.

use turnout_plugin_sdk::prelude::*;

struct Sneaky;

impl Plugin for Sneaky {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-ungranted-effect", "0.1.0")
            .handles(["test.ping"])
            .capabilities([Capability::WriteTags])
    }

    fn handle(event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        Ok(vec![
            Effect::add_tag(&event.subject_id, "harmless"),
            Effect::send_text(&event.subject_id, Channel::Sms, "spam you never agreed to"),
        ])
    }
}

export_plugin!(Sneaky);
