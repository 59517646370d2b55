//! Plain Rust types for what goes into and comes out of a plugin run.
//!
//! These mirror the WIT contract but are independent of it (and of any internal crate), with
//! parsed ids and timestamps, and serialize to JSON so runs can be stored, replayed and shown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization (tenant) id. Every query a plugin makes is scoped to the run's organization.
pub type OrgId = Uuid;

/// Something that happened in the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event's id.
    pub id: Uuid,
    /// What happened, for example `person.signed_up`.
    pub kind: String,
    /// What it is about (a person for `person.*` and `shift.*` events).
    pub subject_id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Kind-specific details (a JSON object).
    #[serde(default = "empty_object")]
    pub payload: serde_json::Value,
    /// How many automation steps led to this event (0 when a person caused it).
    #[serde(default)]
    pub causation_depth: u32,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A permission: declared by a plugin in `describe`, granted by an admin at install, checked by
/// the host on every query and effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Read people (`get-person`, `search-people`).
    ReadPeople,
    /// Read attendance summaries.
    ReadAttendance,
    /// Read upcoming shifts.
    ReadShifts,
    /// Read the plugin's key-value space.
    ReadKv,
    /// Add and remove tags.
    WriteTags,
    /// Set custom fields.
    WriteCustomFields,
    /// Set ladder stages and assessments.
    WriteLadder,
    /// Assign point people.
    AssignPointPerson,
    /// Send messages.
    SendMessages,
    /// Create tasks.
    CreateTasks,
    /// RSVP people to shifts.
    RsvpShifts,
    /// Schedule follow-up events.
    ScheduleFollowUps,
    /// Call integrator webhooks.
    CallWebhooks,
    /// Write the plugin's key-value space.
    WriteKv,
}

impl Capability {
    /// Every capability, in contract order.
    pub const ALL: [Capability; 14] = [
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
    ];

    /// The contract's name for the capability (`read-people`, `write-tags` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::ReadPeople => "read-people",
            Capability::ReadAttendance => "read-attendance",
            Capability::ReadShifts => "read-shifts",
            Capability::ReadKv => "read-kv",
            Capability::WriteTags => "write-tags",
            Capability::WriteCustomFields => "write-custom-fields",
            Capability::WriteLadder => "write-ladder",
            Capability::AssignPointPerson => "assign-point-person",
            Capability::SendMessages => "send-messages",
            Capability::CreateTasks => "create-tasks",
            Capability::RsvpShifts => "rsvp-shifts",
            Capability::ScheduleFollowUps => "schedule-follow-ups",
            Capability::CallWebhooks => "call-webhooks",
            Capability::WriteKv => "write-kv",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability name that is not in the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown capability `{0}`")]
pub struct UnknownCapability(pub String);

impl FromStr for Capability {
    type Err = UnknownCapability;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| UnknownCapability(s.to_string()))
    }
}

/// The capabilities an admin granted to one installation of a plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Grants(BTreeSet<Capability>);

impl Grants {
    /// Nothing granted.
    pub fn none() -> Self {
        Grants(BTreeSet::new())
    }

    /// Whether a capability is granted.
    pub fn contains(&self, cap: Capability) -> bool {
        self.0.contains(&cap)
    }

    /// The granted capabilities.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }

    /// Grant one more capability.
    pub fn insert(&mut self, cap: Capability) {
        self.0.insert(cap);
    }
}

impl FromIterator<Capability> for Grants {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Grants(iter.into_iter().collect())
    }
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Machine name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// One line for admins.
    pub description: String,
    /// Event kinds handled.
    pub handles: Vec<String>,
    /// Capabilities requested.
    pub capabilities: Vec<Capability>,
    /// JSON Schema of the configuration.
    pub config_schema: serde_json::Value,
}

/// A person as the read model returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Id.
    pub id: Uuid,
    /// Given name.
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub last_name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone in E.164.
    #[serde(default)]
    pub phone: Option<String>,
    /// BCP 47 language tag.
    #[serde(default = "default_language")]
    pub language: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom fields.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// Ladder stage.
    #[serde(default)]
    pub ladder_stage: Option<String>,
    /// Assessment 1–5.
    #[serde(default)]
    pub assessment: Option<u8>,
    /// Point person.
    #[serde(default)]
    pub point_person_id: Option<Uuid>,
    /// Referrer.
    #[serde(default)]
    pub referred_by: Option<Uuid>,
    /// When the person was added.
    #[serde(default = "epoch")]
    pub created_at: DateTime<Utc>,
}

fn default_language() -> String {
    "en".to_string()
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

/// A person's attendance counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceSummary {
    /// Attended, all time.
    pub attended_total: u32,
    /// Missed, all time.
    pub missed_total: u32,
    /// Attended in the window.
    pub attended_in_window: u32,
    /// Missed in the window.
    pub missed_in_window: u32,
    /// Start of the last attended shift.
    pub last_attended_at: Option<DateTime<Utc>>,
}

/// A half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
}

impl TimeWindow {
    /// Whether `t` lies in the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// A shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// Id.
    pub id: Uuid,
    /// The event it belongs to.
    pub event_id: Uuid,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Capacity.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// RSVPs so far.
    #[serde(default)]
    pub rsvp_count: u32,
}

/// A simple people search; all given criteria must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleQuery {
    /// Has this tag.
    pub tag: Option<String>,
    /// At this ladder stage.
    pub ladder_stage: Option<String>,
    /// Referred by this person.
    pub referred_by: Option<Uuid>,
    /// First or last name contains this (case-insensitive).
    pub name_contains: Option<String>,
}

impl PeopleQuery {
    /// Whether a person matches.
    pub fn matches(&self, p: &Person) -> bool {
        self.tag.as_ref().is_none_or(|t| p.tags.contains(t))
            && self
                .ladder_stage
                .as_ref()
                .is_none_or(|s| p.ladder_stage.as_ref() == Some(s))
            && self.referred_by.is_none_or(|r| p.referred_by == Some(r))
            && self.name_contains.as_ref().is_none_or(|n| {
                let n = n.to_lowercase();
                p.first_name.to_lowercase().contains(&n) || p.last_name.to_lowercase().contains(&n)
            })
    }
}

/// A message channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS.
    Sms,
    /// WhatsApp.
    Whatsapp,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    /// A stored template.
    Template {
        /// Template name.
        name: String,
        /// Language (BCP 47).
        language: String,
        /// Placeholder values.
        variables: serde_json::Value,
    },
    /// Literal text.
    Text {
        /// The text.
        text: String,
    },
}

/// A change a plugin asks for. Applied by the domain, all together or not at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Add a tag.
    AddTag {
        /// Person.
        person_id: Uuid,
        /// Tag.
        tag: String,
    },
    /// Remove a tag.
    RemoveTag {
        /// Person.
        person_id: Uuid,
        /// Tag.
        tag: String,
    },
    /// Set or clear a custom field.
    SetCustomField {
        /// Person.
        person_id: Uuid,
        /// Key.
        key: String,
        /// Value (none clears).
        value: Option<String>,
    },
    /// Move on the ladder.
    SetLadderStage {
        /// Person.
        person_id: Uuid,
        /// Stage.
        stage: String,
    },
    /// Record an assessment (1–5).
    SetAssessment {
        /// Person.
        person_id: Uuid,
        /// Level.
        level: u8,
    },
    /// Assign a point person.
    AssignPointPerson {
        /// Person.
        person_id: Uuid,
        /// Organizer.
        point_person_id: Uuid,
    },
    /// Send a message.
    SendMessage {
        /// Recipient.
        person_id: Uuid,
        /// Channel.
        channel: Channel,
        /// Body.
        body: MessageBody,
    },
    /// Create a task.
    CreateTask {
        /// Assignee.
        assignee_id: Option<Uuid>,
        /// About whom.
        about_person_id: Option<Uuid>,
        /// Title.
        title: String,
        /// Details.
        description: String,
        /// Due this long after the event occurred.
        due_in_seconds: Option<u64>,
    },
    /// RSVP a person to a shift.
    RsvpShift {
        /// Person.
        person_id: Uuid,
        /// Shift.
        shift_id: Uuid,
    },
    /// Schedule a follow-up event.
    ScheduleFollowUp {
        /// New event kind (starts with `followup.`).
        kind: String,
        /// New event subject.
        subject_id: Uuid,
        /// Delay after the triggering event.
        delay_seconds: u64,
        /// Payload.
        payload: serde_json::Value,
    },
    /// Call an integrator webhook.
    CallWebhook {
        /// Configured webhook name.
        webhook: String,
        /// JSON body.
        body: serde_json::Value,
    },
    /// Set or delete a key-value entry.
    KvSet {
        /// Key.
        key: String,
        /// Value (none deletes).
        value: Option<String>,
    },
}

impl Effect {
    /// The capability this effect needs.
    pub fn capability(&self) -> Capability {
        match self {
            Effect::AddTag { .. } | Effect::RemoveTag { .. } => Capability::WriteTags,
            Effect::SetCustomField { .. } => Capability::WriteCustomFields,
            Effect::SetLadderStage { .. } | Effect::SetAssessment { .. } => Capability::WriteLadder,
            Effect::AssignPointPerson { .. } => Capability::AssignPointPerson,
            Effect::SendMessage { .. } => Capability::SendMessages,
            Effect::CreateTask { .. } => Capability::CreateTasks,
            Effect::RsvpShift { .. } => Capability::RsvpShifts,
            Effect::ScheduleFollowUp { .. } => Capability::ScheduleFollowUps,
            Effect::CallWebhook { .. } => Capability::CallWebhooks,
            Effect::KvSet { .. } => Capability::WriteKv,
        }
    }

    /// The effect's kind as in its JSON `type` (`add_tag`, `send_message` …).
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::AddTag { .. } => "add_tag",
            Effect::RemoveTag { .. } => "remove_tag",
            Effect::SetCustomField { .. } => "set_custom_field",
            Effect::SetLadderStage { .. } => "set_ladder_stage",
            Effect::SetAssessment { .. } => "set_assessment",
            Effect::AssignPointPerson { .. } => "assign_point_person",
            Effect::SendMessage { .. } => "send_message",
            Effect::CreateTask { .. } => "create_task",
            Effect::RsvpShift { .. } => "rsvp_shift",
            Effect::ScheduleFollowUp { .. } => "schedule_follow_up",
            Effect::CallWebhook { .. } => "call_webhook",
            Effect::KvSet { .. } => "kv_set",
        }
    }
}

/// Log levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warn.
    Warn,
    /// Error.
    Error,
}

/// One log line recorded during a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Level.
    pub level: LogLevel,
    /// Text (the plugin's `log`, or its captured stdout/stderr).
    pub message: String,
}
