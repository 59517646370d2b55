//! The catalogue of domain events: every kind of event, its subject and its payload, typed.
//! [`super::record`] takes a [`DomainEvent`], so this is the only way to record one, and what
//! is emitted cannot drift from what is documented: `docs/events.md` is generated from
//! [`describe`] and a test fails when it is stale.
//!
//! One convention for every payload: `snake_case` keys, ids as UUID strings, times as RFC 3339.
//! Every event about a person carries `person_id`, whatever its subject. An event caused by a
//! plugin's effect also carries `automation_id`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::kinds;

/// The version of the payload shapes below. A change that removes or renames a field (or
/// changes its type) raises it; adding a field does not.
pub const PAYLOAD_VERSION: u32 = 1;

/// One RSVP's identity, shared by the RSVP and shift kinds.
#[derive(Clone, Debug, Serialize)]
pub struct RsvpRef {
    pub rsvp_id: Uuid,
    pub person_id: Uuid,
    pub shift_id: Uuid,
    pub event_id: Uuid,
    /// The RSVP's status after the change (`signed_up`, `confirmed`, `waitlisted`,
    /// `cancelled`, `attended`, `no_show`).
    pub status: String,
}

/// Something that happened, as recorded in `domain_events`.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum DomainEvent {
    PersonSignedUp {
        person_id: Uuid,
        form_id: Uuid,
        form_slug: String,
        submission_id: Uuid,
        /// False when the sign-up matched a person already known.
        created: bool,
        referred_by_person_id: Option<Uuid>,
        /// The form's default tags, applied to the person.
        tags: Vec<String>,
    },
    PersonReferred {
        /// The person referred (new, or known and not yet credited to anyone).
        person_id: Uuid,
        /// The person whose referral code they used.
        referrer_person_id: Uuid,
    },
    PersonMerged {
        /// The person kept.
        person_id: Uuid,
        removed_person_id: Uuid,
        /// How many rows of each kind moved to the kept person.
        moved: serde_json::Value,
    },
    PersonConsentChanged {
        person_id: Uuid,
        /// `sms`, `whatsapp` …
        channels: Vec<String>,
        consent: bool,
        /// What changed it (`sms_reply`, …).
        source: String,
    },
    PersonCreated {
        person_id: Uuid,
        /// The fields that were given (names only, never values).
        fields: Vec<String>,
    },
    PersonUpdated {
        person_id: Uuid,
        /// The fields that changed (names only, never values).
        fields: Vec<String>,
    },
    PersonArchived {
        person_id: Uuid,
    },
    PersonRestored {
        person_id: Uuid,
    },
    PersonTagAdded {
        person_id: Uuid,
        tag: String,
    },
    PersonTagRemoved {
        person_id: Uuid,
        tag: String,
    },
    PersonCustomFieldSet {
        person_id: Uuid,
        key: String,
        value: serde_json::Value,
    },
    /// Staff set or cleared custom fields: the keys only, never the values (a restricted
    /// field may be sensitive, and the feed reaches every `people:read` subscriber).
    PersonCustomFieldsChanged {
        person_id: Uuid,
        keys: Vec<String>,
    },
    PersonLadderStageChanged {
        person_id: Uuid,
        from: Option<String>,
        /// Null when staff cleared it.
        to: Option<String>,
    },
    PersonAssessed {
        person_id: Uuid,
        /// 1–5; null when staff cleared it.
        level: Option<i32>,
        /// The organizing campaign the assessment is in; null for the person's general
        /// assessment. A campaign assessment reaches only `organizing:read` subscribers.
        campaign_id: Option<Uuid>,
        /// In a campaign: the covered unit the person works in (the first, if several).
        unit_id: Option<Uuid>,
        /// In a campaign: whether that unit has a leader in the campaign yet.
        unit_has_leader: Option<bool>,
    },
    /// A worker signed (or staff cleared) their union card in a campaign.
    CardSigned {
        person_id: Uuid,
        campaign_id: Uuid,
        /// The day it was signed; null when staff cleared it.
        signed_on: Option<chrono::NaiveDate>,
    },
    PetitionSigned {
        person_id: Uuid,
        campaign_id: Uuid,
        signed_on: Option<chrono::NaiveDate>,
    },
    /// Staff marked a worker as a leader in a campaign (organizing committee), or unmarked them.
    CampaignLeaderChanged {
        person_id: Uuid,
        campaign_id: Uuid,
        leader: bool,
    },
    RelationshipAdded {
        relationship_id: Uuid,
        /// The person the relationship goes from (the social leader, the organizer …).
        person_id: Uuid,
        other_person_id: Uuid,
        /// `coworker`, `social_leader_of`, `organizer_of`, `recruited_by` or `family`.
        kind: String,
    },
    RelationshipRemoved {
        relationship_id: Uuid,
        person_id: Uuid,
        other_person_id: Uuid,
        kind: String,
    },
    EmploymentChanged {
        employment_id: Uuid,
        person_id: Uuid,
        worksite_id: Uuid,
        unit_id: Option<Uuid>,
        /// `started` or `ended`.
        change: String,
    },
    /// Staff tagged everyone a filter selects: one event for the whole operation, not one per
    /// person, so tagging 100,000 people stays one statement per tag.
    PeopleTaggedInBulk {
        /// This bulk operation (its subject).
        operation_id: Uuid,
        tags: Vec<String>,
        /// Taggings added (people who already had a tag are not counted for it).
        added: u64,
    },
    PeopleUntaggedInBulk {
        operation_id: Uuid,
        tags: Vec<String>,
        removed: u64,
    },
    NoteAdded {
        note_id: Uuid,
        person_id: Uuid,
        /// `call`, `text`, `meeting`, `one_on_one`, `other` …
        kind: String,
    },
    PersonPointPersonAssigned {
        person_id: Uuid,
        /// A user id (a member of the organization), not a person id.
        point_person_user_id: Uuid,
    },
    TaskCreated {
        task_id: Uuid,
        person_id: Option<Uuid>,
        /// A user id, not a person id.
        assignee_user_id: Option<Uuid>,
        title: String,
    },
    TaskCompleted {
        task_id: Uuid,
        person_id: Option<Uuid>,
        assignee_user_id: Option<Uuid>,
    },
    TaskReassigned {
        task_id: Uuid,
        person_id: Option<Uuid>,
        /// User ids; null means unassigned.
        from_user_id: Option<Uuid>,
        to_user_id: Option<Uuid>,
    },
    ImportCompleted {
        import_id: Uuid,
        created: u64,
        updated: u64,
        skipped: u64,
        /// Rows refused with an error.
        failed: u64,
    },
    RsvpCreated {
        #[serde(flatten)]
        rsvp: RsvpRef,
        /// True when a cancelled RSVP was taken up again.
        reactivated: bool,
        referrer_person_id: Option<Uuid>,
        /// True for a walk-in added by the host at the door.
        walk_in: bool,
    },
    RsvpCancelled(RsvpRef),
    RsvpPromoted(RsvpRef),
    RsvpConfirmed(RsvpRef),
    RsvpMarkedNoShow(RsvpRef),
    /// A host undid a check-in tapped by mistake.
    RsvpCheckInUndone(RsvpRef),
    ShiftRsvped {
        rsvp_id: Uuid,
        shift_id: Uuid,
        person_id: Uuid,
    },
    ShiftCheckedIn(RsvpRef),
    ShiftReminderDue {
        rsvp_id: Uuid,
        person_id: Uuid,
        shift_id: Uuid,
        event_id: Uuid,
        /// Which of the event's reminders this is: minutes before the start.
        offset_minutes: i32,
        starts_at: DateTime<Utc>,
        /// The event's IANA time zone, for showing `starts_at` as local time.
        time_zone: String,
    },
    ShiftMissed {
        rsvp_id: Uuid,
        person_id: Uuid,
        shift_id: Uuid,
        event_id: Uuid,
        ended_at: DateTime<Utc>,
    },
    ShiftAttended {
        rsvp_id: Uuid,
        person_id: Uuid,
        shift_id: Uuid,
        event_id: Uuid,
        ended_at: DateTime<Utc>,
    },
    EventChanged {
        event_id: Uuid,
        /// The shift changed, when the change was to one shift.
        shift_id: Option<Uuid>,
        /// What changed (`updated`, `cancelled`, `shift_added`, …).
        change: String,
        status: String,
        /// Whether the change reaches the attendees' calendars (new times or place, or a
        /// cancellation): Turnout then sends each of them the change, with the updated invite.
        calendar_changed: bool,
    },
    MessageQueued {
        message_id: Uuid,
        /// The person it is to; null for an email about a Turnout account (an invitation)
        /// to an address that need not be a person.
        person_id: Option<Uuid>,
        channel: String,
    },
    MessageSent {
        message_id: Uuid,
        person_id: Option<Uuid>,
        /// `email`, `sms` or `whatsapp`.
        channel: String,
    },
    MessageDelivered {
        message_id: Uuid,
        person_id: Option<Uuid>,
        channel: String,
    },
    MessageFailed {
        message_id: Uuid,
        person_id: Option<Uuid>,
        channel: String,
        /// The provider's refusal, or `undelivered` from the carrier's receipt.
        reason: String,
    },
    MessageReceived {
        /// The inbound message (`conversation { messages }`).
        message_id: Uuid,
        person_id: Uuid,
        /// `sms` or `whatsapp`.
        channel: String,
        /// What they wrote (at most 5,000 characters).
        body: String,
        /// `STOP`, `STOPALL` or `START` when the reply was one (its consent change is
        /// `person.consent_changed`); null for anything else.
        keyword: Option<String>,
    },
    BroadcastStarted {
        broadcast_id: Uuid,
        /// `email`, `sms` or `whatsapp`.
        channel: String,
    },
    BroadcastSent {
        broadcast_id: Uuid,
        channel: String,
        /// Messages queued for delivery.
        queued: u64,
        /// People in the audience it may not reach (no address, no consent): recorded as
        /// `blocked` messages, never sent.
        blocked: u64,
    },
    WebhookEndpointDisabled {
        endpoint_id: Uuid,
        consecutive_failures: i32,
    },
    /// A follow-up a plugin scheduled (`followup.<name>`), fired with the payload it gave.
    FollowUp {
        #[serde(skip)]
        kind: String,
        #[serde(skip)]
        person_id: Uuid,
        #[serde(flatten)]
        payload: serde_json::Map<String, serde_json::Value>,
    },
}

impl DomainEvent {
    /// The kind, as stored and as automations and webhooks match it.
    pub fn kind(&self) -> &str {
        use DomainEvent::*;
        match self {
            PersonSignedUp { .. } => kinds::PERSON_SIGNED_UP,
            PersonReferred { .. } => kinds::PERSON_REFERRED,
            PersonMerged { .. } => kinds::PERSON_MERGED,
            PersonConsentChanged { .. } => kinds::PERSON_CONSENT_CHANGED,
            PersonCreated { .. } => kinds::PERSON_CREATED,
            PersonCustomFieldsChanged { .. } => kinds::PERSON_CUSTOM_FIELDS_CHANGED,
            PersonUpdated { .. } => kinds::PERSON_UPDATED,
            PersonArchived { .. } => kinds::PERSON_ARCHIVED,
            PersonRestored { .. } => kinds::PERSON_RESTORED,
            PeopleTaggedInBulk { .. } => kinds::PEOPLE_TAGGED_IN_BULK,
            PeopleUntaggedInBulk { .. } => kinds::PEOPLE_UNTAGGED_IN_BULK,
            NoteAdded { .. } => kinds::NOTE_ADDED,
            TaskCompleted { .. } => kinds::TASK_COMPLETED,
            TaskReassigned { .. } => kinds::TASK_REASSIGNED,
            ImportCompleted { .. } => kinds::IMPORT_COMPLETED,
            RsvpConfirmed(_) => kinds::RSVP_CONFIRMED,
            RsvpMarkedNoShow(_) => kinds::RSVP_NO_SHOW,
            RsvpCheckInUndone(_) => kinds::RSVP_CHECK_IN_UNDONE,
            PersonTagAdded { .. } => kinds::PERSON_TAG_ADDED,
            PersonTagRemoved { .. } => kinds::PERSON_TAG_REMOVED,
            PersonCustomFieldSet { .. } => kinds::PERSON_CUSTOM_FIELD_SET,
            PersonLadderStageChanged { .. } => kinds::PERSON_LADDER_STAGE_CHANGED,
            PersonAssessed { .. } => kinds::PERSON_ASSESSED,
            CardSigned { .. } => kinds::CARD_SIGNED,
            PetitionSigned { .. } => kinds::PETITION_SIGNED,
            CampaignLeaderChanged { .. } => kinds::CAMPAIGN_LEADER_CHANGED,
            RelationshipAdded { .. } => kinds::RELATIONSHIP_ADDED,
            RelationshipRemoved { .. } => kinds::RELATIONSHIP_REMOVED,
            EmploymentChanged { .. } => kinds::EMPLOYMENT_CHANGED,
            PersonPointPersonAssigned { .. } => kinds::PERSON_POINT_PERSON_ASSIGNED,
            TaskCreated { .. } => kinds::TASK_CREATED,
            RsvpCreated { .. } => kinds::RSVP_CREATED,
            RsvpCancelled(_) => kinds::RSVP_CANCELLED,
            RsvpPromoted(_) => kinds::RSVP_PROMOTED,
            ShiftRsvped { .. } => kinds::SHIFT_RSVPED,
            ShiftCheckedIn(_) => kinds::SHIFT_CHECKED_IN,
            ShiftReminderDue { .. } => kinds::SHIFT_REMINDER_DUE,
            ShiftMissed { .. } => kinds::SHIFT_MISSED,
            ShiftAttended { .. } => kinds::SHIFT_ATTENDED,
            EventChanged { .. } => kinds::EVENT_CHANGED,
            MessageQueued { .. } => kinds::MESSAGE_QUEUED,
            MessageSent { .. } => kinds::MESSAGE_SENT,
            MessageDelivered { .. } => kinds::MESSAGE_DELIVERED,
            MessageFailed { .. } => kinds::MESSAGE_FAILED,
            MessageReceived { .. } => kinds::MESSAGE_RECEIVED,
            BroadcastStarted { .. } => kinds::BROADCAST_STARTED,
            BroadcastSent { .. } => kinds::BROADCAST_SENT,
            WebhookEndpointDisabled { .. } => kinds::WEBHOOK_ENDPOINT_DISABLED,
            FollowUp { kind, .. } => kind,
        }
    }

    /// What the event is about: `(subject type, id)`. Events about one subject are handled in
    /// the order they were recorded.
    pub fn subject(&self) -> (&'static str, Uuid) {
        use DomainEvent::*;
        match self {
            PersonSignedUp { person_id, .. }
            | PersonReferred { person_id, .. }
            | PersonMerged { person_id, .. }
            | PersonConsentChanged { person_id, .. }
            | PersonCreated { person_id, .. }
            | PersonCustomFieldsChanged { person_id, .. }
            | PersonUpdated { person_id, .. }
            | PersonArchived { person_id }
            | PersonRestored { person_id }
            | PersonTagAdded { person_id, .. }
            | PersonTagRemoved { person_id, .. }
            | PersonCustomFieldSet { person_id, .. }
            | PersonLadderStageChanged { person_id, .. }
            | PersonAssessed { person_id, .. }
            | CardSigned { person_id, .. }
            | PetitionSigned { person_id, .. }
            | CampaignLeaderChanged { person_id, .. }
            | RelationshipAdded { person_id, .. }
            | RelationshipRemoved { person_id, .. }
            | EmploymentChanged { person_id, .. }
            | PersonPointPersonAssigned { person_id, .. }
            | ShiftRsvped { person_id, .. }
            | ShiftMissed { person_id, .. }
            | ShiftAttended { person_id, .. }
            | MessageReceived { person_id, .. }
            | FollowUp { person_id, .. } => ("person", *person_id),
            TaskCreated { task_id, .. }
            | TaskCompleted { task_id, .. }
            | TaskReassigned { task_id, .. } => ("task", *task_id),
            NoteAdded { note_id, .. } => ("note", *note_id),
            PeopleTaggedInBulk { operation_id, .. } | PeopleUntaggedInBulk { operation_id, .. } => {
                ("bulk_operation", *operation_id)
            }
            ImportCompleted { import_id, .. } => ("import", *import_id),
            RsvpCreated { rsvp, .. } => ("rsvp", rsvp.rsvp_id),
            RsvpCancelled(rsvp)
            | RsvpPromoted(rsvp)
            | RsvpConfirmed(rsvp)
            | RsvpMarkedNoShow(rsvp)
            | RsvpCheckInUndone(rsvp) => ("rsvp", rsvp.rsvp_id),
            ShiftCheckedIn(rsvp) => ("shift", rsvp.shift_id),
            ShiftReminderDue { rsvp_id, .. } => ("rsvp", *rsvp_id),
            EventChanged { event_id, .. } => ("event", *event_id),
            MessageQueued { message_id, .. }
            | MessageSent { message_id, .. }
            | MessageDelivered { message_id, .. }
            | MessageFailed { message_id, .. } => ("message", *message_id),
            BroadcastStarted { broadcast_id, .. } | BroadcastSent { broadcast_id, .. } => {
                ("broadcast", *broadcast_id)
            }
            WebhookEndpointDisabled { endpoint_id, .. } => ("webhook_endpoint", *endpoint_id),
        }
    }

    /// The payload as stored: a JSON object.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// One kind, as the docs describe it.
pub struct KindDoc {
    pub kind: &'static str,
    pub subject: &'static str,
    /// When it is recorded.
    pub when: &'static str,
    /// A realistic event of this kind (for the docs, `turnout plugin sample-event` and tests).
    pub sample: DomainEvent,
}

/// Every kind of the catalogue, with when it fires and a sample, in the order of the docs.
pub fn describe() -> Vec<KindDoc> {
    let id = |n: u128| Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n);
    let at = |h: u32| {
        DateTime::parse_from_rfc3339(&format!("2026-12-05T{h:02}:00:00Z"))
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    let rsvp = |status: &str| RsvpRef {
        rsvp_id: id(4),
        person_id: id(1),
        shift_id: id(3),
        event_id: id(2),
        status: status.into(),
    };
    use DomainEvent::*;
    let doc = |kind, subject, when, sample| KindDoc {
        kind,
        subject,
        when,
        sample,
    };
    vec![
        doc(
            kinds::PERSON_SIGNED_UP,
            "person",
            "A public sign-up through a form, new person or returning.",
            PersonSignedUp {
                person_id: id(1),
                form_id: id(10),
                form_slug: "volunteer".into(),
                submission_id: id(11),
                created: true,
                referred_by_person_id: Some(id(9)),
                tags: vec!["volunteer".into()],
            },
        ),
        doc(
            kinds::PERSON_REFERRED,
            "person (the one referred)",
            "A sign-up or public RSVP used someone's referral code, and the person was not yet \
             credited to anyone.",
            PersonReferred {
                person_id: id(1),
                referrer_person_id: id(9),
            },
        ),
        doc(
            kinds::PERSON_MERGED,
            "person (the one kept)",
            "Staff merged two people.",
            PersonMerged {
                person_id: id(1),
                removed_person_id: id(8),
                moved: serde_json::json!({ "rsvps": 2, "notes": 1 }),
            },
        ),
        doc(
            kinds::PERSON_CONSENT_CHANGED,
            "person",
            "A person replied STOP or START.",
            PersonConsentChanged {
                person_id: id(1),
                channels: vec!["sms".into()],
                consent: false,
                source: "sms_reply".into(),
            },
        ),
        doc(
            kinds::PERSON_CREATED,
            "person",
            "Staff, an integrator or an import created a person (sign-ups are `person.signed_up`).",
            PersonCreated {
                person_id: id(1),
                fields: vec!["first_name".into(), "email".into()],
            },
        ),
        doc(
            kinds::PERSON_UPDATED,
            "person",
            "Staff or an integrator changed a person's fields; only the names of the fields.",
            PersonUpdated {
                person_id: id(1),
                fields: vec!["phone".into()],
            },
        ),
        doc(
            kinds::PERSON_ARCHIVED,
            "person",
            "A person was archived.",
            PersonArchived { person_id: id(1) },
        ),
        doc(
            kinds::PERSON_RESTORED,
            "person",
            "An archived person was restored.",
            PersonRestored { person_id: id(1) },
        ),
        doc(
            kinds::PERSON_TAG_ADDED,
            "person",
            "Staff or an automation tagged a person who did not have the tag.",
            PersonTagAdded {
                person_id: id(1),
                tag: "host".into(),
            },
        ),
        doc(
            kinds::PERSON_TAG_REMOVED,
            "person",
            "Staff or an automation removed a tag the person had.",
            PersonTagRemoved {
                person_id: id(1),
                tag: "host".into(),
            },
        ),
        doc(
            kinds::PERSON_CUSTOM_FIELD_SET,
            "person",
            "An automation set a custom field (staff changes are `person.custom_fields_changed`).",
            PersonCustomFieldSet {
                person_id: id(1),
                key: "t_shirt".into(),
                value: serde_json::json!("M"),
            },
        ),
        doc(
            kinds::PERSON_CUSTOM_FIELDS_CHANGED,
            "person",
            "Staff or an integrator set or cleared custom fields; the keys only, never the values.",
            PersonCustomFieldsChanged {
                person_id: id(1),
                keys: vec!["t_shirt".into()],
            },
        ),
        doc(
            kinds::PERSON_LADDER_STAGE_CHANGED,
            "person",
            "Staff or an automation moved a person on the ladder of engagement.",
            PersonLadderStageChanged {
                person_id: id(1),
                from: Some("supporter".into()),
                to: Some("volunteer".into()),
            },
        ),
        doc(
            kinds::PERSON_ASSESSED,
            "person",
            "Staff or an automation set a person's assessment (1–5), or an organizer assessed a \
             worker in an organizing campaign (then `campaign_id` is set, and only \
             `organizing:read` subscribers and webhooks that name the kind receive it).",
            PersonAssessed {
                person_id: id(1),
                level: Some(2),
                campaign_id: Some(id(90)),
                unit_id: Some(id(91)),
                unit_has_leader: Some(false),
            },
        ),
        doc(
            kinds::CARD_SIGNED,
            "person",
            "A worker's union card was recorded as signed in a campaign (or the record cleared).",
            CardSigned {
                person_id: id(1),
                campaign_id: id(90),
                signed_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 4),
            },
        ),
        doc(
            kinds::PETITION_SIGNED,
            "person",
            "A worker's petition signature was recorded in a campaign (or the record cleared).",
            PetitionSigned {
                person_id: id(1),
                campaign_id: id(90),
                signed_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 4),
            },
        ),
        doc(
            kinds::CAMPAIGN_LEADER_CHANGED,
            "person",
            "Staff marked a worker as a leader in a campaign, or unmarked them.",
            CampaignLeaderChanged {
                person_id: id(1),
                campaign_id: id(90),
                leader: true,
            },
        ),
        doc(
            kinds::RELATIONSHIP_ADDED,
            "person (the one the relationship goes from)",
            "Staff recorded a relationship between two people.",
            RelationshipAdded {
                relationship_id: id(92),
                person_id: id(1),
                other_person_id: id(8),
                kind: "social_leader_of".into(),
            },
        ),
        doc(
            kinds::RELATIONSHIP_REMOVED,
            "person (the one the relationship went from)",
            "Staff removed a relationship.",
            RelationshipRemoved {
                relationship_id: id(92),
                person_id: id(1),
                other_person_id: id(8),
                kind: "social_leader_of".into(),
            },
        ),
        doc(
            kinds::EMPLOYMENT_CHANGED,
            "person",
            "A person's employment started (was recorded) or ended.",
            EmploymentChanged {
                employment_id: id(93),
                person_id: id(1),
                worksite_id: id(94),
                unit_id: Some(id(91)),
                change: "started".into(),
            },
        ),
        doc(
            kinds::PEOPLE_TAGGED_IN_BULK,
            "bulk_operation",
            "Staff tagged everyone a filter selects: one event for the operation, not one per person.",
            PeopleTaggedInBulk {
                operation_id: id(60),
                tags: vec!["canvass-2026".into()],
                added: 1200,
            },
        ),
        doc(
            kinds::PEOPLE_UNTAGGED_IN_BULK,
            "bulk_operation",
            "Staff removed tags from everyone a filter selects.",
            PeopleUntaggedInBulk {
                operation_id: id(61),
                tags: vec!["canvass-2026".into()],
                removed: 1100,
            },
        ),
        doc(
            kinds::NOTE_ADDED,
            "note",
            "Staff logged a note (a call, a one-on-one …) about a person.",
            NoteAdded {
                note_id: id(70),
                person_id: id(1),
                kind: "call".into(),
            },
        ),
        doc(
            kinds::PERSON_POINT_PERSON_ASSIGNED,
            "person",
            "An automation gave a person a point person (an organizer: a user).",
            PersonPointPersonAssigned {
                person_id: id(1),
                point_person_user_id: id(20),
            },
        ),
        doc(
            kinds::TASK_CREATED,
            "task",
            "An automation created a task.",
            TaskCreated {
                task_id: id(30),
                person_id: Some(id(1)),
                assignee_user_id: Some(id(20)),
                title: "Call Ada about Saturday".into(),
            },
        ),
        doc(
            kinds::TASK_COMPLETED,
            "task",
            "A task was completed.",
            TaskCompleted {
                task_id: id(30),
                person_id: Some(id(1)),
                assignee_user_id: Some(id(20)),
            },
        ),
        doc(
            kinds::TASK_REASSIGNED,
            "task",
            "A task was given to another organizer (or unassigned).",
            TaskReassigned {
                task_id: id(30),
                person_id: Some(id(1)),
                from_user_id: Some(id(20)),
                to_user_id: Some(id(21)),
            },
        ),
        doc(
            kinds::IMPORT_COMPLETED,
            "import",
            "A CSV import of people finished.",
            ImportCompleted {
                import_id: id(80),
                created: 950,
                updated: 40,
                skipped: 5,
                failed: 10,
            },
        ),
        doc(
            kinds::RSVP_CREATED,
            "rsvp",
            "Someone RSVPed (publicly, by staff, as a walk-in), or took a cancelled RSVP up again.",
            RsvpCreated {
                rsvp: rsvp("signed_up"),
                reactivated: false,
                referrer_person_id: None,
                walk_in: false,
            },
        ),
        doc(
            kinds::RSVP_CANCELLED,
            "rsvp",
            "An RSVP was cancelled (by its link or by staff).",
            RsvpCancelled(rsvp("cancelled")),
        ),
        doc(
            kinds::RSVP_CONFIRMED,
            "rsvp",
            "Staff or the volunteer confirmed an RSVP.",
            RsvpConfirmed(rsvp("confirmed")),
        ),
        doc(
            kinds::RSVP_NO_SHOW,
            "rsvp",
            "Staff marked an RSVP as a no-show (the missed-shift sweep records `shift.missed`).",
            RsvpMarkedNoShow(rsvp("no_show")),
        ),
        doc(
            kinds::RSVP_CHECK_IN_UNDONE,
            "rsvp",
            "A host undid a check-in tapped by mistake; the RSVP is signed up again.",
            RsvpCheckInUndone(rsvp("signed_up")),
        ),
        doc(
            kinds::RSVP_PROMOTED,
            "rsvp",
            "A waitlisted RSVP got a seat.",
            RsvpPromoted(rsvp("signed_up")),
        ),
        doc(
            kinds::SHIFT_RSVPED,
            "person",
            "An automation RSVPed a person to a shift.",
            ShiftRsvped {
                rsvp_id: id(4),
                shift_id: id(3),
                person_id: id(1),
            },
        ),
        doc(
            kinds::SHIFT_CHECKED_IN,
            "shift",
            "A person was checked in at a shift (by the host or staff). The person is `person_id`.",
            ShiftCheckedIn(rsvp("attended")),
        ),
        doc(
            kinds::SHIFT_REMINDER_DUE,
            "rsvp",
            "One of an event's reminders came due for a seated RSVP.",
            ShiftReminderDue {
                rsvp_id: id(4),
                person_id: id(1),
                shift_id: id(3),
                event_id: id(2),
                offset_minutes: 1440,
                starts_at: at(18),
                time_zone: "America/New_York".into(),
            },
        ),
        doc(
            kinds::SHIFT_MISSED,
            "person",
            "A shift ended (plus the grace period) and a seated RSVP was never checked in.",
            ShiftMissed {
                rsvp_id: id(4),
                person_id: id(1),
                shift_id: id(3),
                event_id: id(2),
                ended_at: at(21),
            },
        ),
        doc(
            kinds::SHIFT_ATTENDED,
            "person",
            "A shift ended (plus the grace period) and a seated RSVP had checked in: the moment to say thank you.",
            ShiftAttended {
                rsvp_id: id(4),
                person_id: id(1),
                shift_id: id(3),
                event_id: id(2),
                ended_at: at(21),
            },
        ),
        doc(
            kinds::EVENT_CHANGED,
            "event",
            "Staff changed an event or one of its shifts.",
            EventChanged {
                event_id: id(2),
                shift_id: Some(id(3)),
                change: "shift_updated".into(),
                status: "published".into(),
                calendar_changed: true,
            },
        ),
        doc(
            kinds::MESSAGE_QUEUED,
            "message",
            "A message was queued for delivery.",
            MessageQueued {
                message_id: id(40),
                person_id: Some(id(1)),
                channel: "sms".into(),
            },
        ),
        doc(
            kinds::MESSAGE_SENT,
            "message",
            "The provider accepted a message.",
            MessageSent {
                message_id: id(40),
                person_id: Some(id(1)),
                channel: "sms".into(),
            },
        ),
        doc(
            kinds::MESSAGE_DELIVERED,
            "message",
            "The provider's receipt says the message reached the person.",
            MessageDelivered {
                message_id: id(40),
                person_id: Some(id(1)),
                channel: "sms".into(),
            },
        ),
        doc(
            kinds::MESSAGE_FAILED,
            "message",
            "The provider refused a message, or its receipt says it was not delivered.",
            MessageFailed {
                message_id: id(40),
                person_id: Some(id(1)),
                channel: "sms".into(),
                reason: "undelivered".into(),
            },
        ),
        doc(
            kinds::MESSAGE_RECEIVED,
            "person",
            "A person texted or sent a WhatsApp message to the organization (a reply, a STOP, \
             anything): it is in their conversation in the inbox.",
            MessageReceived {
                message_id: id(41),
                person_id: id(1),
                channel: "sms".into(),
                body: "Yes! Count me in for Saturday".into(),
                keyword: None,
            },
        ),
        doc(
            kinds::BROADCAST_STARTED,
            "broadcast",
            "A broadcast was sent (or its scheduled time came): its messages are being queued.",
            BroadcastStarted {
                broadcast_id: id(60),
                channel: "email".into(),
            },
        ),
        doc(
            kinds::BROADCAST_SENT,
            "broadcast",
            "Every message of a broadcast is queued (or blocked for want of consent or address).",
            BroadcastSent {
                broadcast_id: id(60),
                channel: "email".into(),
                queued: 980,
                blocked: 20,
            },
        ),
        doc(
            kinds::WEBHOOK_ENDPOINT_DISABLED,
            "webhook_endpoint",
            "A webhook endpoint failed too many times in a row and was turned off.",
            WebhookEndpointDisabled {
                endpoint_id: id(50),
                consecutive_failures: 20,
            },
        ),
        doc(
            "followup.<name>",
            "person",
            "A follow-up a plugin scheduled came due; the payload is the one it gave.",
            FollowUp {
                kind: "followup.check_in_call".into(),
                person_id: id(1),
                payload: serde_json::Map::from_iter([(
                    "person_id".to_owned(),
                    serde_json::json!(id(1)),
                )]),
            },
        ),
    ]
}

/// The JSON type of a sample value, for the docs.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(s) if Uuid::parse_str(s).is_ok() => "uuid",
        serde_json::Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => "timestamp",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `docs/events.md`: the catalogue as a page, generated from [`describe`].
pub fn markdown() -> String {
    let mut out = format!(
        "# Domain events\n\n\
         Generated from `domain/src/outbox/catalogue.rs` (`cargo run -- events-doc > docs/events.md`); \
         a test fails when this page is stale. Payload version {PAYLOAD_VERSION}.\n\n\
         Every event has a kind, a subject (type and id), a payload, the time it occurred and \
         its causation depth. Payload keys are `snake_case`; ids are UUID strings, times RFC 3339. \
         Every event about a person carries `person_id`, whatever its subject. An event caused \
         by a plugin's effect also carries `automation_id`. Plugins receive the payload as \
         `event.payload` (JSON text); webhooks as `data.payload`.\n"
    );
    for kind in describe() {
        let payload = kind.sample.payload();
        out.push_str(&format!(
            "\n## `{}`\n\nSubject: {}. {}\n\n| field | type |\n|---|---|\n",
            kind.kind, kind.subject, kind.when
        ));
        if let Some(fields) = payload.as_object() {
            for (name, value) in fields {
                out.push_str(&format!("| `{name}` | {} |\n", json_type(value)));
            }
        }
        out.push_str(&format!(
            "\n```json\n{}\n```\n",
            serde_json::to_string_pretty(&payload).unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_described_once_and_every_person_event_names_the_person() {
        let docs = describe();
        let mut seen = std::collections::HashSet::new();
        for doc in &docs {
            assert!(seen.insert(doc.kind), "{} described twice", doc.kind);
            if doc.kind != "followup.<name>" {
                assert_eq!(doc.sample.kind(), doc.kind);
            }
            let payload = doc.sample.payload();
            assert!(payload.is_object(), "{}: {payload}", doc.kind);
            let (subject, _) = doc.sample.subject();
            let about_a_person = subject == "person" || payload.get("person_id").is_some();
            if subject == "person" {
                assert!(
                    payload.get("person_id").is_some(),
                    "{} lacks person_id",
                    doc.kind
                );
            }
            assert!(
                about_a_person
                    || [
                        "event",
                        "message",
                        "webhook_endpoint",
                        "task",
                        "bulk_operation",
                        "import",
                        "broadcast"
                    ]
                    .contains(&subject),
                "{}",
                doc.kind
            );
            // One naming convention: no camelCase key.
            for key in payload.as_object().into_iter().flat_map(|o| o.keys()) {
                assert_eq!(key, &key.to_lowercase(), "{}: `{key}`", doc.kind);
            }
        }
    }

    /// A kind nobody records is a promise the automations cannot keep: each variant must be
    /// constructed somewhere in the domain outside this file.
    #[test]
    fn every_kind_has_a_code_path_that_records_it() {
        fn sources(dir: &std::path::Path, out: &mut String) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("outbox/catalogue.rs")
                {
                    out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut code = String::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut code,
        );
        assert!(code.len() > 100_000, "the domain's sources were not found");
        for doc in describe() {
            let debug = format!("{:?}", doc.sample);
            let variant: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(
                code.contains(&format!("DomainEvent::{variant}")),
                "`{}` ({variant}) is in the catalogue but nothing records it",
                doc.kind
            );
        }
    }

    #[test]
    fn the_events_page_is_current() {
        let committed = include_str!("../../../docs/events.md");
        assert!(
            committed == markdown(),
            "docs/events.md is stale: run `cargo run -- events-doc > docs/events.md`"
        );
    }
}
