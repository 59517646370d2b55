//! referral-thanks: on `person.referred` (subject: the new person; payload `referrer_person_id`, or
//! the new person's `referred-by`), thank the referrer; at five referrals tag them "recruiter".

use turnout_plugin_sdk::prelude::*;

#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// The thank-you text; `{first_name}` (the referrer) and `{friend}` are replaced.
    message: String,
    /// Preferred channel.
    channel: String,
    /// Referrals needed for the tag.
    recruiter_threshold: u32,
    /// The tag.
    recruiter_tag: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            message: "Thank you, {first_name}, for bringing {friend} into the campaign!".into(),
            channel: "email".into(),
            recruiter_threshold: 5,
            recruiter_tag: "recruiter".into(),
        }
    }
}

struct ReferralThanks;

impl Plugin for ReferralThanks {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("referral-thanks", "0.1.0")
            .description("Thanks referrers; five referrals make a recruiter")
            .handles(["person.referred"])
            .capabilities([
                Capability::ReadPeople,
                Capability::SendMessages,
                Capability::WriteTags,
            ])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "channel": {"enum": ["email", "sms", "whatsapp"], "default": "email"},
                    "recruiter_threshold": {"type": "integer", "minimum": 1, "default": 5},
                    "recruiter_tag": {"type": "string", "default": "recruiter"}
                }
            }))
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        let friend = query::person(&event.subject_id)?.ok_or_else(|| {
            PluginError::InvalidEvent(format!("person {} not found", event.subject_id))
        })?;
        let referrer_id = event
            .payload_str("referrer_person_id")
            .or_else(|| friend.referred_by.clone())
            .ok_or_else(|| PluginError::InvalidEvent("no referrer in the event".into()))?;
        let referrer = query::person(&referrer_id)?.ok_or_else(|| {
            PluginError::InvalidEvent(format!("referrer {referrer_id} not found"))
        })?;
        let preferred = Channel::parse(&config.channel).ok_or_else(|| {
            PluginError::InvalidConfig(format!("unknown channel {}", config.channel))
        })?;

        let mut effects = Vec::new();
        if let Some(channel) = referrer.reachable_channel(preferred) {
            let text = config
                .message
                .replace("{first_name}", &referrer.first_name)
                .replace("{friend}", &friend.first_name);
            effects.push(Effect::send_text(&referrer.id, channel, text));
        }

        let referred = query::search_people(&PeopleQuery::all().referred_by(&referrer.id), 25)?;
        log::info(format!(
            "{} has referred {} people",
            referrer.id,
            referred.len()
        ));
        if referred.len() as u32 >= config.recruiter_threshold
            && !referrer.has_tag(&config.recruiter_tag)
        {
            effects.push(Effect::add_tag(&referrer.id, &config.recruiter_tag));
        }
        Ok(effects)
    }
}

export_plugin!(ReferralThanks);
