//! Hostile: returns too much. With config `{"mode": "big"}` one effect carries a huge text;
//! with `{"mode": "many"}` it returns thousands of small effects.

use turnout_plugin_sdk::prelude::*;

#[derive(serde::Deserialize)]
struct Config {
    mode: String,
    #[serde(default = "default_size")]
    size: usize,
}

fn default_size() -> usize {
    4 << 20
}

struct Flood;

impl Plugin for Flood {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-oversized-output", "0.1.0")
            .handles(["test.ping"])
            .capabilities([Capability::WriteTags, Capability::SendMessages])
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        match config.mode.as_str() {
            "big" => Ok(vec![Effect::send_text(
                &event.subject_id,
                Channel::Email,
                "x".repeat(config.size),
            )]),
            "many" => Ok((0..2_000)
                .map(|i| Effect::add_tag(&event.subject_id, format!("tag-{i}")))
                .collect()),
            other => Err(PluginError::InvalidConfig(format!("unknown mode {other}"))),
        }
    }
}

export_plugin!(Flood);
