//! ladder-promotion: on `shift.checked_in`, promote people by attended shifts (three →
//! "active", ten → "leader" by default) and tell their point person.

use turnout_plugin_sdk::prelude::*;

#[derive(serde::Deserialize, Clone)]
struct Promotion {
    attended: u32,
    stage: String,
}

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// Thresholds of attended shifts and the stage they lead to.
    promotions: Vec<Promotion>,
    /// The ladder, lowest stage first (never demote: only move up).
    ladder: Vec<String>,
    /// Channel used to tell the point person.
    notify_channel: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            promotions: vec![
                Promotion {
                    attended: 3,
                    stage: "active".into(),
                },
                Promotion {
                    attended: 10,
                    stage: "leader".into(),
                },
            ],
            ladder: ["prospect", "supporter", "active", "leader"]
                .map(String::from)
                .to_vec(),
            notify_channel: "email".into(),
        }
    }
}

struct LadderPromotion;

impl Plugin for LadderPromotion {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("ladder-promotion", "0.1.0")
            .description("Moves people up the ladder as they attend shifts")
            .handles(["shift.checked_in"])
            .capabilities([
                Capability::ReadPeople,
                Capability::ReadAttendance,
                Capability::WriteLadder,
                Capability::SendMessages,
            ])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "promotions": {"type": "array", "items": {
                        "type": "object",
                        "required": ["attended", "stage"],
                        "properties": {"attended": {"type": "integer"}, "stage": {"type": "string"}}
                    }},
                    "ladder": {"type": "array", "items": {"type": "string"}},
                    "notify_channel": {"enum": ["email", "sms", "whatsapp"], "default": "email"}
                }
            }))
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        // `shift.checked_in` is about a shift; every event about a person names it `person_id`.
        let person_id = event
            .payload_str("person_id")
            .unwrap_or_else(|| event.subject_id.clone());
        let person = query::person(&person_id)?
            .ok_or_else(|| PluginError::InvalidEvent(format!("person {person_id} not found")))?;
        let attendance = query::attendance(&person.id, 365)?;
        let rank = |stage: &str| config.ladder.iter().position(|l| l == stage);

        let target = config
            .promotions
            .iter()
            .filter(|p| attendance.attended_total >= p.attended)
            .max_by_key(|p| p.attended)
            .cloned();
        let Some(target) = target else {
            log::debug(format!(
                "{} shifts attended: no promotion yet",
                attendance.attended_total
            ));
            return Ok(vec![]);
        };
        let current = person.ladder_stage.as_deref().and_then(rank);
        let wanted = rank(&target.stage).ok_or_else(|| {
            PluginError::InvalidConfig(format!("stage {} is not on the ladder", target.stage))
        })?;
        if current.is_some_and(|c| c >= wanted) {
            return Ok(vec![]);
        }

        let mut effects = vec![Effect::set_ladder_stage(&person.id, &target.stage)];
        log::info(format!(
            "{} attended {} shifts: now {}",
            person.id, attendance.attended_total, target.stage
        ));
        if let Some(point_person_id) = &person.point_person_id {
            let preferred = Channel::parse(&config.notify_channel).unwrap_or(Channel::Email);
            let channel = query::person(point_person_id)?
                .and_then(|pp| pp.reachable_channel(preferred))
                .unwrap_or(preferred);
            effects.push(Effect::send_text(
                point_person_id,
                channel,
                format!(
                    "{} has attended {} shifts and is now \"{}\". Time to talk about next steps!",
                    person.full_name(),
                    attendance.attended_total,
                    target.stage
                ),
            ));
        }
        Ok(effects)
    }
}

export_plugin!(LadderPromotion);
