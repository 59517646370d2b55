//! Conversions between the generated WIT types and the host's plain Rust types, with the
//! validation effects must pass before they leave the host.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::bindings::turnout::automation::types as wit;
use crate::error::RunError;
use crate::limits::Limits;
use crate::types::{
    AttendanceSummary, Capability, Channel, Effect, Event, LogLevel, MessageBody, PeopleQuery,
    Person, PluginInfo, Shift,
};

const MAX_NAME_LEN: usize = 200;

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn event_to_wit(e: &Event) -> wit::Event {
    wit::Event {
        id: e.id.to_string(),
        kind: e.kind.clone(),
        subject_id: e.subject_id.to_string(),
        occurred_at: timestamp(e.occurred_at),
        payload: e.payload.to_string(),
        causation_depth: e.causation_depth,
    }
}

pub(crate) fn capability_from_wit(c: wit::Capability) -> Capability {
    match c {
        wit::Capability::ReadPeople => Capability::ReadPeople,
        wit::Capability::ReadAttendance => Capability::ReadAttendance,
        wit::Capability::ReadShifts => Capability::ReadShifts,
        wit::Capability::ReadKv => Capability::ReadKv,
        wit::Capability::WriteTags => Capability::WriteTags,
        wit::Capability::WriteCustomFields => Capability::WriteCustomFields,
        wit::Capability::WriteLadder => Capability::WriteLadder,
        wit::Capability::AssignPointPerson => Capability::AssignPointPerson,
        wit::Capability::SendMessages => Capability::SendMessages,
        wit::Capability::CreateTasks => Capability::CreateTasks,
        wit::Capability::RsvpShifts => Capability::RsvpShifts,
        wit::Capability::ScheduleFollowUps => Capability::ScheduleFollowUps,
        wit::Capability::CallWebhooks => Capability::CallWebhooks,
        wit::Capability::WriteKv => Capability::WriteKv,
    }
}

pub(crate) fn capability_to_wit(c: Capability) -> wit::Capability {
    match c {
        Capability::ReadPeople => wit::Capability::ReadPeople,
        Capability::ReadAttendance => wit::Capability::ReadAttendance,
        Capability::ReadShifts => wit::Capability::ReadShifts,
        Capability::ReadKv => wit::Capability::ReadKv,
        Capability::WriteTags => wit::Capability::WriteTags,
        Capability::WriteCustomFields => wit::Capability::WriteCustomFields,
        Capability::WriteLadder => wit::Capability::WriteLadder,
        Capability::AssignPointPerson => wit::Capability::AssignPointPerson,
        Capability::SendMessages => wit::Capability::SendMessages,
        Capability::CreateTasks => wit::Capability::CreateTasks,
        Capability::RsvpShifts => wit::Capability::RsvpShifts,
        Capability::ScheduleFollowUps => wit::Capability::ScheduleFollowUps,
        Capability::CallWebhooks => wit::Capability::CallWebhooks,
        Capability::WriteKv => wit::Capability::WriteKv,
    }
}

pub(crate) fn log_level(l: wit::LogLevel) -> LogLevel {
    match l {
        wit::LogLevel::Debug => LogLevel::Debug,
        wit::LogLevel::Info => LogLevel::Info,
        wit::LogLevel::Warn => LogLevel::Warn,
        wit::LogLevel::Error => LogLevel::Error,
    }
}

/// Validate what `describe` returned.
pub(crate) fn plugin_info(i: wit::PluginInfo) -> Result<PluginInfo, String> {
    let name = i.name.trim().to_string();
    if name.is_empty() || name.len() > 64 {
        return Err("the plugin name must be 1 to 64 characters".into());
    }
    if i.handles.is_empty() {
        return Err("the plugin handles no event kind".into());
    }
    let config_schema = serde_json::from_str(&i.config_schema)
        .map_err(|e| format!("the config schema is not JSON: {e}"))?;
    let mut capabilities: Vec<Capability> = i
        .capabilities
        .into_iter()
        .map(capability_from_wit)
        .collect();
    capabilities.sort();
    capabilities.dedup();
    Ok(PluginInfo {
        name,
        version: i.version,
        description: i.description,
        handles: i.handles,
        capabilities,
        config_schema,
    })
}

pub(crate) fn plugin_error(e: wit::PluginError) -> RunError {
    let (kind, message) = match e {
        wit::PluginError::InvalidConfig(m) => ("invalid_config", m),
        wit::PluginError::InvalidEvent(m) => ("invalid_event", m),
        wit::PluginError::Failed(m) => ("failed", m),
    };
    RunError::Plugin {
        kind: kind.into(),
        message: message.chars().take(2000).collect(),
    }
}

pub(crate) fn person_to_wit(p: Person) -> wit::Person {
    wit::Person {
        id: p.id.to_string(),
        first_name: p.first_name,
        last_name: p.last_name,
        email: p.email,
        phone: p.phone,
        language: p.language,
        tags: p.tags,
        custom_fields: p
            .custom_fields
            .into_iter()
            .map(|(key, value)| wit::CustomField { key, value })
            .collect(),
        ladder_stage: p.ladder_stage,
        assessment: p.assessment,
        point_person_id: p.point_person_id.map(|u| u.to_string()),
        referred_by: p.referred_by.map(|u| u.to_string()),
        created_at: timestamp(p.created_at),
    }
}

pub(crate) fn attendance_to_wit(person_id: Uuid, a: AttendanceSummary) -> wit::AttendanceSummary {
    wit::AttendanceSummary {
        person_id: person_id.to_string(),
        attended_total: a.attended_total,
        missed_total: a.missed_total,
        attended_in_window: a.attended_in_window,
        missed_in_window: a.missed_in_window,
        last_attended_at: a.last_attended_at.map(timestamp),
    }
}

pub(crate) fn shift_to_wit(s: Shift) -> wit::Shift {
    wit::Shift {
        id: s.id.to_string(),
        event_id: s.event_id.to_string(),
        title: s.title,
        starts_at: timestamp(s.starts_at),
        ends_at: timestamp(s.ends_at),
        location: s.location,
        capacity: s.capacity,
        rsvp_count: s.rsvp_count,
    }
}

pub(crate) fn people_query_from_wit(q: wit::PeopleQuery) -> Result<PeopleQuery, String> {
    Ok(PeopleQuery {
        tag: q.tag,
        ladder_stage: q.ladder_stage,
        referred_by: q.referred_by.as_deref().map(parse_id).transpose()?,
        name_contains: q.name_contains,
    })
}

pub(crate) fn parse_id(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s).map_err(|_| format!("`{}` is not a UUID", truncate(s, 64)))
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn json(field: &str, s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("{field} is not valid JSON: {e}"))
}

fn name(field: &str, s: String) -> Result<String, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if trimmed.len() > MAX_NAME_LEN {
        return Err(format!("{field} is longer than {MAX_NAME_LEN} bytes"));
    }
    Ok(trimmed.to_string())
}

/// The size an effect contributes to the output cap: the bytes of all its text.
pub(crate) fn effect_size(e: &wit::Effect) -> usize {
    use wit::Effect as E;
    let o = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    match e {
        E::AddTag(t) | E::RemoveTag(t) => t.person_id.len() + t.tag.len(),
        E::SetCustomField(c) => c.person_id.len() + c.key.len() + o(&c.value),
        E::SetLadderStage(l) => l.person_id.len() + l.stage.len(),
        E::SetAssessment(a) => a.person_id.len() + 1,
        E::AssignPointPerson(p) => p.person_id.len() + p.point_person_id.len(),
        E::SendMessage(m) => {
            m.person_id.len()
                + match &m.body {
                    wit::MessageBody::Text(t) => t.len(),
                    wit::MessageBody::Template(t) => {
                        t.name.len() + t.language.len() + t.variables.len()
                    }
                }
        }
        E::CreateTask(t) => {
            o(&t.assignee_id) + o(&t.about_person_id) + t.title.len() + t.description.len() + 8
        }
        E::RsvpShift(r) => r.person_id.len() + r.shift_id.len(),
        E::ScheduleFollowUp(f) => f.kind.len() + f.subject_id.len() + f.payload.len() + 8,
        E::CallWebhook(w) => w.webhook.len() + w.body.len(),
        E::KvSet(k) => k.key.len() + o(&k.value),
    }
}

/// Convert and validate one effect.
pub(crate) fn effect_from_wit(e: wit::Effect, limits: &Limits) -> Result<Effect, String> {
    use wit::Effect as E;
    Ok(match e {
        E::AddTag(t) => Effect::AddTag {
            person_id: parse_id(&t.person_id)?,
            tag: name("tag", t.tag)?,
        },
        E::RemoveTag(t) => Effect::RemoveTag {
            person_id: parse_id(&t.person_id)?,
            tag: name("tag", t.tag)?,
        },
        E::SetCustomField(c) => Effect::SetCustomField {
            person_id: parse_id(&c.person_id)?,
            key: name("custom field key", c.key)?,
            value: c.value,
        },
        E::SetLadderStage(l) => Effect::SetLadderStage {
            person_id: parse_id(&l.person_id)?,
            stage: name("ladder stage", l.stage)?,
        },
        E::SetAssessment(a) => {
            if !(1..=5).contains(&a.level) {
                return Err(format!("assessment {} is not between 1 and 5", a.level));
            }
            Effect::SetAssessment {
                person_id: parse_id(&a.person_id)?,
                level: a.level,
            }
        }
        E::AssignPointPerson(p) => Effect::AssignPointPerson {
            person_id: parse_id(&p.person_id)?,
            point_person_id: parse_id(&p.point_person_id)?,
        },
        E::SendMessage(m) => Effect::SendMessage {
            person_id: parse_id(&m.person_id)?,
            channel: match m.channel {
                wit::Channel::Email => Channel::Email,
                wit::Channel::Sms => Channel::Sms,
                wit::Channel::Whatsapp => Channel::Whatsapp,
            },
            body: match m.body {
                wit::MessageBody::Text(text) => {
                    if text.trim().is_empty() {
                        return Err("message text is empty".into());
                    }
                    MessageBody::Text { text }
                }
                wit::MessageBody::Template(t) => MessageBody::Template {
                    name: name("template name", t.name)?,
                    language: name("template language", t.language)?,
                    variables: json("template variables", &t.variables)?,
                },
            },
        },
        E::CreateTask(t) => Effect::CreateTask {
            assignee_id: t.assignee_id.as_deref().map(parse_id).transpose()?,
            about_person_id: t.about_person_id.as_deref().map(parse_id).transpose()?,
            title: name("task title", t.title)?,
            description: t.description,
            due_in_seconds: t.due_in_seconds,
        },
        E::RsvpShift(r) => Effect::RsvpShift {
            person_id: parse_id(&r.person_id)?,
            shift_id: parse_id(&r.shift_id)?,
        },
        E::ScheduleFollowUp(f) => {
            if !f.kind.starts_with("followup.") {
                return Err(format!(
                    "follow-up kind `{}` must start with `followup.`",
                    truncate(&f.kind, 64)
                ));
            }
            if f.delay_seconds > limits.max_follow_up_delay.as_secs() {
                return Err(format!(
                    "follow-up delay of {} s exceeds the limit of {} s",
                    f.delay_seconds,
                    limits.max_follow_up_delay.as_secs()
                ));
            }
            Effect::ScheduleFollowUp {
                kind: name("follow-up kind", f.kind)?,
                subject_id: parse_id(&f.subject_id)?,
                delay_seconds: f.delay_seconds,
                payload: json("follow-up payload", &f.payload)?,
            }
        }
        E::CallWebhook(w) => Effect::CallWebhook {
            webhook: name("webhook name", w.webhook)?,
            body: json("webhook body", &w.body)?,
        },
        E::KvSet(k) => Effect::KvSet {
            key: name("key", k.key)?,
            value: k.value,
        },
    })
}
