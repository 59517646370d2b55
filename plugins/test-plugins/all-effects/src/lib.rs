//! Exercises the whole contract: every query and every kind of effect, plus what the sandbox
//! shows of the clock. With config `{"mode": "..."}` it can also return one malformed effect
//! (`bad-id`, `bad-assessment`, `bad-follow-up`, `bad-json`) that the host must refuse.

use std::time::{SystemTime, UNIX_EPOCH};
use turnout_plugin_sdk::prelude::*;
use turnout_plugin_sdk::{ShiftRsvp, TemplateRef, WebhookCall};

#[derive(serde::Deserialize)]
struct Config {
    mode: String,
}

struct AllEffects;

impl Plugin for AllEffects {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("test-all-effects", "0.1.0")
            .handles(["test.ping"])
            .capabilities(turnout_plugin_sdk_all_capabilities())
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        let me = event.subject_id.clone();
        match config.mode.as_str() {
            "all" => {}
            "bad-id" => return Ok(vec![Effect::add_tag("not-a-uuid", "x")]),
            "bad-assessment" => return Ok(vec![Effect::set_assessment(&me, 6)]),
            "bad-follow-up" => {
                return Ok(vec![Effect::schedule_follow_up(
                    "person.signed_up",
                    &me,
                    60,
                    serde_json::json!({}),
                )]);
            }
            "bad-json" => {
                return Ok(vec![Effect::CallWebhook(WebhookCall {
                    webhook: "crm-sync".into(),
                    body: "{not json".into(),
                })]);
            }
            other => return Err(PluginError::InvalidConfig(format!("unknown mode {other}"))),
        }

        let shifts = query::upcoming_shifts(100)?;
        let shift = shifts
            .first()
            .ok_or_else(|| PluginError::Failed("no upcoming shift".into()))?;
        let attendance = query::attendance(&me, 30)?;
        let stored = query::kv_get("counter")?.unwrap_or_default();
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);

        Ok(vec![
            Effect::add_tag(&me, "a"),
            Effect::remove_tag(&me, "b"),
            Effect::set_custom_field(&me, "clock", Some(clock.to_string())),
            Effect::set_custom_field(&me, "shifts_seen", Some(shifts.len().to_string())),
            Effect::set_custom_field(&me, "attended", Some(attendance.attended_total.to_string())),
            Effect::set_custom_field(&me, "old", None),
            Effect::set_ladder_stage(&me, "active"),
            Effect::set_assessment(&me, 4),
            Effect::assign_point_person(&me, &me),
            Effect::send_template(
                &me,
                Channel::Whatsapp,
                "reminder",
                "en",
                serde_json::json!({"shift": shift.title}),
            ),
            Effect::SendMessage(turnout_plugin_sdk::Message {
                person_id: me.clone(),
                channel: Channel::Sms,
                body: MessageBody::Template(TemplateRef {
                    name: "raw".into(),
                    language: "es".into(),
                    variables: "{}".into(),
                }),
            }),
            Effect::create_task(None, Some(me.clone()), "Check in", None),
            Effect::RsvpShift(ShiftRsvp {
                person_id: me.clone(),
                shift_id: shift.id.clone(),
            }),
            Effect::schedule_follow_up("followup.reminder", &me, 3600, serde_json::json!({"n": 1})),
            Effect::call_webhook("crm-sync", serde_json::json!({"person": me})),
            Effect::kv_set("counter", Some(format!("{stored}+"))),
            Effect::kv_set("stale", None),
        ])
    }
}

fn turnout_plugin_sdk_all_capabilities() -> [Capability; 14] {
    [
        Capability::ReadPeople,
        Capability::ReadAttendance,
        Capability::ReadShifts,
        Capability::ReadKv,
        Capability::WriteTags,
        Capability::WriteCustomFields,
        Capability::WriteLadder,
        Capability::AssignPointPerson,
        Capability::SendMessages,
        Capability::CreateTasks,
        Capability::RsvpShifts,
        Capability::ScheduleFollowUps,
        Capability::CallWebhooks,
        Capability::WriteKv,
    ]
}

export_plugin!(AllEffects);
