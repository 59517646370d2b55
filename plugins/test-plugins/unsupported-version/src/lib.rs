//! A plugin built against `turnout:automation@0.9.0`, a contract version the host does not
//! support. The host must refuse to load it, naming the version found and those supported.

wit_bindgen::generate!({
    path: "wit",
    world: "automation",
});

use exports::turnout::automation::plugin::Guest;
use turnout::automation::types::{Effect, Event, PluginError, PluginInfo, TagChange};

struct FromTheFuture;

impl Guest for FromTheFuture {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "test-unsupported-version".into(),
            version: "0.1.0".into(),
            description: "Built against contract 0.9.0".into(),
            handles: vec!["test.ping".into()],
            capabilities: vec![],
            config_schema: "{}".into(),
        }
    }

    fn handle(event: Event, _config: String) -> Result<Vec<Effect>, PluginError> {
        Ok(vec![Effect::AddTag(TagChange {
            person_id: event.subject_id,
            tag: "from-the-future".into(),
        })])
    }
}

export!(FromTheFuture);
