//! missed-shift-follow-up: on `shift.missed`, send a "we missed you" text, create a call task
//! for the person's point person, and after repeated misses (two in 30 days by default) move
//! the person one step down the ladder.

use turnout_plugin_sdk::prelude::*;

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// The text; `{first_name}` is replaced.
    message: String,
    /// Preferred channel.
    channel: String,
    /// The window in days in which misses are counted.
    window_days: u32,
    /// How many misses in the window move the person down one stage.
    misses_to_step_down: u32,
    /// The ladder, lowest stage first.
    ladder: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            message:
                "We missed you today, {first_name}! Hope all is well. Want to pick another shift?"
                    .into(),
            channel: "sms".into(),
            window_days: 30,
            misses_to_step_down: 2,
            ladder: ["prospect", "supporter", "active", "leader"]
                .map(String::from)
                .to_vec(),
        }
    }
}

struct MissedShift;

impl Plugin for MissedShift {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("missed-shift-follow-up", "0.1.0")
            .description("Follows up on missed shifts; repeated misses move the ladder stage down")
            .handles(["shift.missed"])
            .capabilities([
                Capability::ReadPeople,
                Capability::ReadAttendance,
                Capability::SendMessages,
                Capability::CreateTasks,
                Capability::WriteLadder,
            ])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "channel": {"enum": ["email", "sms", "whatsapp"], "default": "sms"},
                    "window_days": {"type": "integer", "minimum": 1, "default": 30},
                    "misses_to_step_down": {"type": "integer", "minimum": 1, "default": 2},
                    "ladder": {"type": "array", "items": {"type": "string"}}
                }
            }))
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        let person = query::person(&event.subject_id)?.ok_or_else(|| {
            PluginError::InvalidEvent(format!("person {} not found", event.subject_id))
        })?;
        let preferred = Channel::parse(&config.channel).ok_or_else(|| {
            PluginError::InvalidConfig(format!("unknown channel {}", config.channel))
        })?;
        let mut effects = Vec::new();

        if let Some(channel) = person.reachable_channel(preferred) {
            let text = config.message.replace("{first_name}", &person.first_name);
            effects.push(Effect::send_text(&person.id, channel, text));
        }

        if let Some(point_person) = &person.point_person_id {
            effects.push(Effect::CreateTask(Task {
                assignee_id: Some(point_person.clone()),
                about_person_id: Some(person.id.clone()),
                title: format!("Call {}: missed a shift", person.full_name()),
                description: format!(
                    "{} missed shift {}.",
                    person.full_name(),
                    event
                        .payload_str("shift_id")
                        .unwrap_or_else(|| "(unknown)".into())
                ),
                due_in_seconds: Some(24 * 3600),
            }));
        }

        let attendance = query::attendance(&person.id, config.window_days)?;
        if attendance.missed_in_window >= config.misses_to_step_down {
            let rank = person
                .ladder_stage
                .as_ref()
                .and_then(|s| config.ladder.iter().position(|l| l == s));
            match rank {
                Some(r) if r > 0 => {
                    let lower = &config.ladder[r - 1];
                    log::info(format!(
                        "{} misses in {} days: {} -> {lower}",
                        attendance.missed_in_window, config.window_days, config.ladder[r]
                    ));
                    effects.push(Effect::set_ladder_stage(&person.id, lower));
                }
                _ => log::debug("already at the bottom of the ladder (or not on it)"),
            }
        }
        Ok(effects)
    }
}

export_plugin!(MissedShift);
