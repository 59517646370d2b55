//! committee-recruit: on `person.assessed` in an organizing campaign, when a worker is assessed
//! at the top level (1, "Leader", by default) and their unit has no leader yet, create a task
//! for the lead organizer to recruit them to the organizing committee.
//!
//! A unit without a leader is the gap a structure test shows first; a worker assessed 1 there
//! is the person to close it. The event says both (`level`, `unit_has_leader`), so the plugin
//! needs no query beyond the worker's name.

use turnout_plugin_sdk::prelude::*;

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// The level that makes a worker a committee prospect.
    level: i64,
    /// The user who gets the task; without one, the worker's point person does.
    lead_organizer_user_id: Option<String>,
    /// Days until the task is due.
    due_in_days: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            level: 1,
            lead_organizer_user_id: None,
            due_in_days: 3,
        }
    }
}

/// The fields of `person.assessed` this plugin reads.
#[derive(serde::Deserialize)]
struct Assessed {
    level: Option<i64>,
    /// Set only for an assessment in an organizing campaign.
    campaign_id: Option<String>,
    unit_has_leader: Option<bool>,
}

struct CommitteeRecruit;

impl Plugin for CommitteeRecruit {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("committee-recruit", "0.1.0")
            .description(
                "Asks the lead organizer to recruit a worker assessed 1 in a unit with no leader",
            )
            .handles(["person.assessed"])
            .capabilities([Capability::ReadPeople, Capability::CreateTasks])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "level": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
                    "lead_organizer_user_id": {"type": "string"},
                    "due_in_days": {"type": "integer", "minimum": 0, "default": 3}
                }
            }))
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        let assessed: Assessed = event.payload()?;
        if assessed.campaign_id.is_none() {
            log::debug("an assessment outside an organizing campaign");
            return Ok(vec![]);
        }
        if assessed.level != Some(config.level) {
            return Ok(vec![]);
        }
        if assessed.unit_has_leader != Some(false) {
            log::debug("the unit has a leader already");
            return Ok(vec![]);
        }
        let person_id = event
            .payload_str("person_id")
            .unwrap_or_else(|| event.subject_id.clone());
        let person = query::person(&person_id)?
            .ok_or_else(|| PluginError::InvalidEvent(format!("person {person_id} not found")))?;
        let Some(assignee) = config
            .lead_organizer_user_id
            .clone()
            .or_else(|| person.point_person_id.clone())
        else {
            log::info(format!(
                "{} is a committee prospect, but there is no lead organizer or point person to ask",
                person.id
            ));
            return Ok(vec![]);
        };
        Ok(vec![Effect::CreateTask(Task {
            assignee_id: Some(assignee),
            about_person_id: Some(person.id.clone()),
            title: format!(
                "Recruit {} to the organizing committee",
                person.full_name()
            ),
            description: format!(
                "{} was assessed {} and their unit has no leader yet.",
                person.full_name(),
                config.level
            ),
            due_in_seconds: Some(config.due_in_days * 24 * 3600),
        })])
    }
}

export_plugin!(CommitteeRecruit);
