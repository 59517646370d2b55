//! welcome-volunteer: on `person.signed_up`, tag the new volunteer, welcome them in their own
//! language, give them a point person (round-robin over the configured organizers, the turn
//! kept in the plugin's key-value space) and create a follow-up task for that organizer.

use std::collections::BTreeMap;
use turnout_plugin_sdk::prelude::*;

const TURN_KEY: &str = "round-robin-next";

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// Tag added to every new volunteer.
    tag: String,
    /// Organizers (person ids) taking turns as point people.
    point_people: Vec<String>,
    /// Welcome texts by language; `{first_name}` is replaced.
    messages: BTreeMap<String, String>,
    /// Language used when the person's language has no text.
    default_language: String,
    /// Preferred channel: email, sms or whatsapp.
    channel: String,
    /// Days until the follow-up task is due.
    follow_up_days: u64,
}

impl Default for Config {
    fn default() -> Self {
        let mut messages = BTreeMap::new();
        messages.insert(
            "en".to_string(),
            "Welcome aboard, {first_name}! Thank you for signing up.".to_string(),
        );
        messages.insert(
            "es".to_string(),
            "¡Bienvenida/o, {first_name}! Gracias por sumarte.".to_string(),
        );
        Config {
            tag: "volunteer".into(),
            point_people: Vec::new(),
            messages,
            default_language: "en".into(),
            channel: "email".into(),
            follow_up_days: 2,
        }
    }
}

struct WelcomeVolunteer;

impl Plugin for WelcomeVolunteer {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("welcome-volunteer", "0.1.0")
            .description("Tags, welcomes and assigns a point person to every new sign-up")
            .handles(["person.signed_up"])
            .capabilities([
                Capability::ReadPeople,
                Capability::ReadKv,
                Capability::WriteTags,
                Capability::SendMessages,
                Capability::AssignPointPerson,
                Capability::CreateTasks,
                Capability::WriteKv,
            ])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "tag": {"type": "string", "default": "volunteer"},
                    "point_people": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                    "messages": {"type": "object", "additionalProperties": {"type": "string"}},
                    "default_language": {"type": "string", "default": "en"},
                    "channel": {"enum": ["email", "sms", "whatsapp"], "default": "email"},
                    "follow_up_days": {"type": "integer", "minimum": 0, "default": 2}
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

        if !config.tag.is_empty() && !person.has_tag(&config.tag) {
            effects.push(Effect::add_tag(&person.id, &config.tag));
        }

        let text = config
            .messages
            .get(&person.primary_language())
            .or_else(|| config.messages.get(&config.default_language))
            .map(|t| t.replace("{first_name}", &person.first_name));
        match (text, person.reachable_channel(preferred)) {
            (Some(text), Some(channel)) => {
                effects.push(Effect::send_text(&person.id, channel, text))
            }
            (None, _) => log::warn(format!("no welcome text for {}", person.language)),
            (_, None) => log::warn(format!("person {} has no e-mail or phone", person.id)),
        }

        let point_person = match &person.point_person_id {
            Some(existing) => Some(existing.clone()),
            None if !config.point_people.is_empty() => {
                let turn = query::kv_get(TURN_KEY)?
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0)
                    % config.point_people.len();
                let chosen = config.point_people[turn].clone();
                effects.push(Effect::assign_point_person(&person.id, &chosen));
                let next = (turn + 1) % config.point_people.len();
                effects.push(Effect::kv_set(TURN_KEY, Some(next.to_string())));
                log::info(format!("point person {chosen} (turn {turn})"));
                Some(chosen)
            }
            None => None,
        };

        effects.push(Effect::CreateTask(Task {
            assignee_id: point_person,
            about_person_id: Some(person.id.clone()),
            title: format!("Welcome call: {}", person.full_name()),
            description: "Call the new volunteer, answer questions, invite them to a shift.".into(),
            due_in_seconds: Some(config.follow_up_days * 24 * 3600),
        }));
        Ok(effects)
    }
}

export_plugin!(WelcomeVolunteer);
