//! The whole contract through the host: every query and every effect kind converts as
//! documented, malformed effects are refused, and the sandbox's clock reads the event's time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use turnout_plugin_host::{Channel, Effect, MessageBody, RunError};

fn all_fixtures() -> turnout_plugin_host::FixtureReadModel {
    fixtures(json!({
        "people": [{"id": id(1), "first_name": "Ana"}],
        "attendance": [
            {"person_id": id(1), "at": "2026-11-20T10:00:00Z", "status": "attended"},
            {"person_id": id(1), "at": "2026-11-21T10:00:00Z", "status": "attended"}
        ],
        "shifts": [
            {"id": id(300), "event_id": id(301), "title": "Past", "starts_at": "2026-11-01T10:00:00Z",
             "ends_at": "2026-11-01T12:00:00Z"},
            {"id": id(302), "event_id": id(301), "title": "Canvass", "starts_at": "2026-11-28T10:00:00Z",
             "ends_at": "2026-11-28T12:00:00Z", "capacity": 10, "rsvp_count": 3},
            {"org_id": OTHER_ORG, "id": id(303), "event_id": id(304), "title": "Theirs",
             "starts_at": "2026-11-27T10:00:00Z", "ends_at": "2026-11-27T12:00:00Z"}
        ],
        "kv": [
            {"namespace": "test-all-effects", "key": "counter", "value": "1"},
            {"namespace": "someone-else", "key": "counter", "value": "secret"}
        ]
    }))
}

#[tokio::test]
async fn every_effect_kind_round_trips() {
    let plugin = load("test-all-effects").await;
    let me = id(1);
    let out = run(
        &plugin,
        event("test.ping", me, json!({})),
        json!({"mode": "all"}),
        grants_all(&plugin),
        &all_fixtures(),
    )
    .await;
    assert!(out.error.is_none(), "{:?} {:?}", out.error, out.logs);
    let occurred = at("2026-11-26T12:00:00Z").timestamp();
    let field = |key: &str, value: Option<String>| Effect::SetCustomField {
        person_id: me,
        key: key.into(),
        value,
    };
    assert_eq!(
        out.effects,
        vec![
            Effect::AddTag {
                person_id: me,
                tag: "a".into()
            },
            Effect::RemoveTag {
                person_id: me,
                tag: "b".into()
            },
            // The plugin's clock is the event's time, not the host's.
            field("clock", Some(occurred.to_string())),
            // Only the future shift of this organization.
            field("shifts_seen", Some("1".into())),
            field("attended", Some("2".into())),
            field("old", None),
            Effect::SetLadderStage {
                person_id: me,
                stage: "active".into()
            },
            Effect::SetAssessment {
                person_id: me,
                level: 4
            },
            Effect::AssignPointPerson {
                person_id: me,
                point_person_id: me
            },
            Effect::SendMessage {
                person_id: me,
                channel: Channel::Whatsapp,
                body: MessageBody::Template {
                    name: "reminder".into(),
                    language: "en".into(),
                    variables: json!({"shift": "Canvass"}),
                },
            },
            Effect::SendMessage {
                person_id: me,
                channel: Channel::Sms,
                body: MessageBody::Template {
                    name: "raw".into(),
                    language: "es".into(),
                    variables: json!({}),
                },
            },
            Effect::CreateTask {
                assignee_id: None,
                about_person_id: Some(me),
                title: "Check in".into(),
                description: String::new(),
                due_in_seconds: None,
            },
            Effect::RsvpShift {
                person_id: me,
                shift_id: id(302)
            },
            Effect::ScheduleFollowUp {
                kind: "followup.reminder".into(),
                subject_id: me,
                delay_seconds: 3600,
                payload: json!({"n": 1}),
            },
            Effect::CallWebhook {
                webhook: "crm-sync".into(),
                body: json!({"person": me})
            },
            // Its own key-value space only.
            Effect::KvSet {
                key: "counter".into(),
                value: Some("1+".into())
            },
            Effect::KvSet {
                key: "stale".into(),
                value: None
            },
        ]
    );
    // Effects serialize to the JSON the domain will store.
    let stored = serde_json::to_value(&out.effects[13]).unwrap();
    assert_eq!(stored["type"], "schedule_follow_up");
    assert_eq!(stored["payload"]["n"], 1);
    let back: Effect = serde_json::from_value(stored).unwrap();
    assert_eq!(back, out.effects[13]);
}

#[tokio::test]
async fn malformed_effects_are_refused() {
    let plugin = load("test-all-effects").await;
    for (mode, needle) in [
        ("bad-id", "is not a UUID"),
        ("bad-assessment", "not between 1 and 5"),
        ("bad-follow-up", "must start with `followup.`"),
        ("bad-json", "not valid JSON"),
    ] {
        let out = run(
            &plugin,
            event("test.ping", id(1), json!({})),
            json!({ "mode": mode }),
            grants_all(&plugin),
            &all_fixtures(),
        )
        .await;
        assert!(out.effects.is_empty(), "{mode}");
        match out.error {
            Some(RunError::InvalidEffect { index: 0, reason }) => {
                assert!(reason.contains(needle), "{mode}: {reason}")
            }
            other => panic!("{mode}: expected InvalidEffect, got {other:?}"),
        }
    }
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        json!({"mode": "nope"}),
        grants_all(&plugin),
        &all_fixtures(),
    )
    .await;
    assert_eq!(
        out.error,
        Some(RunError::Plugin {
            kind: "invalid_config".into(),
            message: "unknown mode nope".into()
        })
    );
    assert_host_still_healthy().await;
}
