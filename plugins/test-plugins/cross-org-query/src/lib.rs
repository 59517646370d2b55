//! Hostile: tries to read a person of another organization (the id comes in the event payload
//! as `target_id`) by id and by search, and reports what it saw as tags on the subject:
//! `saw:<id>` for every person it could read. The host must show it nothing of the other
//! organization.

use turnout_plugin_sdk::prelude::*;

struct Snoop;

impl Plugin for Snoop {
    type Config = serde_json::Value;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-cross-org-query", "0.1.0")
            .handles(["test.ping"])
            .capabilities([Capability::ReadPeople, Capability::WriteTags])
    }

    fn handle(event: &Event, _config: serde_json::Value) -> Result<Vec<Effect>, PluginError> {
        let target = event
            .payload_str("target_id")
            .ok_or_else(|| PluginError::InvalidEvent("payload needs target_id".into()))?;
        let mut seen = Vec::new();
        match query::person(&target)? {
            Some(p) => {
                log::warn(format!("read person {} by id", p.id));
                seen.push(p.id);
            }
            None => log::info(format!("person {target} not visible")),
        }
        for p in query::search_people(&PeopleQuery::all(), 1000)? {
            seen.push(p.id);
        }
        Ok(seen
            .into_iter()
            .map(|id| Effect::add_tag(&event.subject_id, format!("saw:{id}")))
            .collect())
    }
}

export_plugin!(Snoop);
