//! The example plugins, built from source and run through the real host on fixture data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;
use turnout_plugin_host::{Channel, Effect, Grants, MessageBody, RunOutcome};

fn text_of(effect: &Effect) -> Option<(uuid::Uuid, Channel, &str)> {
    match effect {
        Effect::SendMessage {
            person_id,
            channel,
            body: MessageBody::Text { text },
        } => Some((*person_id, *channel, text.as_str())),
        _ => None,
    }
}

fn ok(out: &RunOutcome) {
    assert!(
        out.error.is_none(),
        "run failed: {:?}\nlogs: {:?}",
        out.error,
        out.logs
    );
}

// ---------------------------------------------------------------- welcome-volunteer

fn welcome_fixtures() -> serde_json::Value {
    json!({
        "people": [
            {"id": id(1), "first_name": "Ana", "last_name": "García", "language": "es-MX",
             "email": "ana@example.org", "phone": "+15550001"},
            {"id": id(2), "first_name": "Bob", "last_name": "Lee", "language": "en",
             "phone": "+15550002", "tags": ["volunteer"]},
            {"id": id(101), "first_name": "Olga", "language": "en", "email": "olga@example.org"},
            {"id": id(102), "first_name": "Omar", "language": "en", "email": "omar@example.org"}
        ]
    })
}

fn welcome_config() -> serde_json::Value {
    json!({
        "tag": "volunteer",
        "point_people": [id(101), id(102)],
        "messages": {"en": "Welcome, {first_name}!", "es": "¡Bienvenida, {first_name}!"},
        "channel": "email",
        "follow_up_days": 2
    })
}

#[tokio::test]
async fn welcome_volunteer_tags_welcomes_in_language_assigns_and_creates_task() {
    let plugin = load("welcome-volunteer").await;
    let fx = fixtures(welcome_fixtures());
    let out = run(
        &plugin,
        event("person.signed_up", id(1), json!({})),
        welcome_config(),
        grants_all(&plugin),
        &fx,
    )
    .await;
    ok(&out);
    assert_eq!(
        out.effects,
        vec![
            Effect::AddTag {
                person_id: id(1),
                tag: "volunteer".into()
            },
            Effect::SendMessage {
                person_id: id(1),
                channel: Channel::Email,
                body: MessageBody::Text {
                    text: "¡Bienvenida, Ana!".into()
                },
            },
            Effect::AssignPointPerson {
                person_id: id(1),
                point_person_id: id(101)
            },
            Effect::KvSet {
                key: "round-robin-next".into(),
                value: Some("1".into())
            },
            Effect::CreateTask {
                assignee_id: Some(id(101)),
                about_person_id: Some(id(1)),
                title: "Welcome call: Ana García".into(),
                description: "Call the new volunteer, answer questions, invite them to a shift."
                    .into(),
                due_in_seconds: Some(2 * 24 * 3600),
            },
        ]
    );
    assert!(out.fuel_used > 0);
}

#[tokio::test]
async fn welcome_volunteer_round_robin_follows_the_stored_turn() {
    let plugin = load("welcome-volunteer").await;
    let mut fx = fixtures(welcome_fixtures());
    // The previous run stored "1": Bob gets the second organizer, already tagged, and is
    // reached by SMS because he has no e-mail, in English.
    fx.data_mut().kv.push(
        serde_json::from_value(json!({
            "namespace": "welcome-volunteer", "key": "round-robin-next", "value": "1"
        }))
        .unwrap(),
    );
    let out = run(
        &plugin,
        event("person.signed_up", id(2), json!({})),
        welcome_config(),
        grants_all(&plugin),
        &fx,
    )
    .await;
    ok(&out);
    assert!(
        !out.effects
            .iter()
            .any(|e| matches!(e, Effect::AddTag { .. }))
    );
    let (to, channel, text) = out.effects.iter().find_map(text_of).unwrap();
    assert_eq!((to, channel, text), (id(2), Channel::Sms, "Welcome, Bob!"));
    assert!(out.effects.contains(&Effect::AssignPointPerson {
        person_id: id(2),
        point_person_id: id(102)
    }));
    assert!(out.effects.contains(&Effect::KvSet {
        key: "round-robin-next".into(),
        value: Some("0".into())
    }));
}

#[tokio::test]
async fn welcome_volunteer_without_grants_fails_and_applies_nothing() {
    let plugin = load("welcome-volunteer").await;
    let fx = fixtures(welcome_fixtures());
    let grants: Grants = grants_all(&plugin)
        .iter()
        .filter(|c| *c != turnout_plugin_host::Capability::AssignPointPerson)
        .collect();
    let out = run(
        &plugin,
        event("person.signed_up", id(1), json!({})),
        welcome_config(),
        grants,
        &fx,
    )
    .await;
    assert!(out.effects.is_empty());
    match out.error {
        Some(turnout_plugin_host::RunError::NotGranted {
            capability,
            declared,
            ..
        }) => {
            assert_eq!(
                capability,
                turnout_plugin_host::Capability::AssignPointPerson
            );
            assert!(declared);
        }
        other => panic!("expected NotGranted, got {other:?}"),
    }
}

// ---------------------------------------------------------------- missed-shift-follow-up

fn missed_fixtures(second_miss_at: &str) -> serde_json::Value {
    json!({
        "people": [
            {"id": id(1), "first_name": "Maria", "last_name": "Silva", "phone": "+15550001",
             "ladder_stage": "active", "point_person_id": id(101)},
            {"id": id(101), "first_name": "Olga", "email": "olga@example.org"}
        ],
        "attendance": [
            {"person_id": id(1), "at": "2026-10-01T10:00:00Z", "status": "attended"},
            {"person_id": id(1), "at": second_miss_at, "status": "missed"},
            {"person_id": id(1), "at": "2026-11-26T10:00:00Z", "status": "missed"}
        ]
    })
}

#[tokio::test]
async fn missed_shift_texts_creates_call_task_and_steps_down_after_two_misses() {
    let plugin = load("missed-shift-follow-up").await;
    let fx = fixtures(missed_fixtures("2026-11-12T10:00:00Z"));
    let out = run(
        &plugin,
        event("shift.missed", id(1), json!({"shift_id": id(500)})),
        json!({}),
        grants_all(&plugin),
        &fx,
    )
    .await;
    ok(&out);
    assert_eq!(out.effects.len(), 3, "{:?}", out.effects);
    let (to, channel, text) = text_of(&out.effects[0]).unwrap();
    assert_eq!((to, channel), (id(1), Channel::Sms));
    assert!(text.contains("We missed you today, Maria"), "{text}");
    match &out.effects[1] {
        Effect::CreateTask {
            assignee_id,
            about_person_id,
            title,
            description,
            ..
        } => {
            assert_eq!(*assignee_id, Some(id(101)));
            assert_eq!(*about_person_id, Some(id(1)));
            assert_eq!(title, "Call Maria Silva: missed a shift");
            assert!(description.contains(&id(500).to_string()));
        }
        other => panic!("expected a task, got {other:?}"),
    }
    assert_eq!(
        out.effects[2],
        Effect::SetLadderStage {
            person_id: id(1),
            stage: "supporter".into()
        }
    );
}

#[tokio::test]
async fn missed_shift_one_miss_in_window_keeps_the_stage() {
    let plugin = load("missed-shift-follow-up").await;
    // The earlier miss is 45 days before the event: outside the 30-day window.
    let fx = fixtures(missed_fixtures("2026-10-12T10:00:00Z"));
    let out = run(
        &plugin,
        event("shift.missed", id(1), json!({"shift_id": id(500)})),
        json!({}),
        grants_all(&plugin),
        &fx,
    )
    .await;
    ok(&out);
    assert_eq!(out.effects.len(), 2, "{:?}", out.effects);
    assert!(
        !out.effects
            .iter()
            .any(|e| matches!(e, Effect::SetLadderStage { .. }))
    );
}

// ---------------------------------------------------------------- ladder-promotion

fn ladder_fixtures(attended: usize, stage: &str) -> serde_json::Value {
    let attendance: Vec<_> = (0..attended)
        .map(|i| json!({"person_id": id(1), "at": format!("2026-11-{:02}T10:00:00Z", i + 1), "status": "attended"}))
        .collect();
    json!({
        "people": [
            {"id": id(1), "first_name": "Kim", "last_name": "Park", "ladder_stage": stage,
             "point_person_id": id(101), "phone": "+15550001"},
            {"id": id(101), "first_name": "Olga", "email": "olga@example.org"}
        ],
        "attendance": attendance
    })
}

async fn ladder_run(attended: usize, stage: &str) -> RunOutcome {
    let plugin = load("ladder-promotion").await;
    let out = run(
        &plugin,
        event(
            "shift.checked_in",
            id(500),
            json!({"person_id": id(1), "shift_id": id(500), "status": "attended"}),
        ),
        json!({}),
        grants_all(&plugin),
        &fixtures(ladder_fixtures(attended, stage)),
    )
    .await;
    ok(&out);
    out
}

#[tokio::test]
async fn ladder_promotion_three_shifts_make_active_and_tell_the_point_person() {
    let out = ladder_run(3, "supporter").await;
    assert_eq!(out.effects.len(), 2, "{:?}", out.effects);
    assert_eq!(
        out.effects[0],
        Effect::SetLadderStage {
            person_id: id(1),
            stage: "active".into()
        }
    );
    let (to, channel, text) = text_of(&out.effects[1]).unwrap();
    assert_eq!((to, channel), (id(101), Channel::Email));
    assert!(
        text.contains("Kim Park has attended 3 shifts and is now \"active\""),
        "{text}"
    );
}

#[tokio::test]
async fn ladder_promotion_ten_shifts_make_leader() {
    let out = ladder_run(10, "active").await;
    assert_eq!(
        out.effects[0],
        Effect::SetLadderStage {
            person_id: id(1),
            stage: "leader".into()
        }
    );
    assert_eq!(out.effects.len(), 2);
}

#[tokio::test]
async fn ladder_promotion_no_change_below_threshold_or_when_already_there() {
    assert!(ladder_run(2, "supporter").await.effects.is_empty());
    assert!(ladder_run(4, "active").await.effects.is_empty());
    assert!(ladder_run(10, "leader").await.effects.is_empty());
}

// ---------------------------------------------------------------- referral-thanks

fn referral_fixtures(in_org: u128, in_other_org: u128) -> serde_json::Value {
    let mut people = vec![
        json!({"id": id(1), "first_name": "Rosa", "email": "rosa@example.org", "tags": ["volunteer"]}),
    ];
    for n in 0..in_org {
        people.push(
            json!({"id": id(10 + n), "first_name": format!("Friend{n}"), "referred_by": id(1)}),
        );
    }
    for n in 0..in_other_org {
        people.push(json!({"org_id": OTHER_ORG, "id": id(50 + n), "first_name": "Elsewhere", "referred_by": id(1)}));
    }
    json!({"people": people})
}

#[tokio::test]
async fn referral_thanks_thanks_the_referrer() {
    let plugin = load("referral-thanks").await;
    let out = run(
        &plugin,
        event(
            "person.referred",
            id(10),
            json!({"person_id": id(10), "referrer_person_id": id(1)}),
        ),
        json!({}),
        grants_all(&plugin),
        &fixtures(referral_fixtures(2, 0)),
    )
    .await;
    ok(&out);
    assert_eq!(out.effects.len(), 1, "{:?}", out.effects);
    let (to, channel, text) = text_of(&out.effects[0]).unwrap();
    assert_eq!((to, channel), (id(1), Channel::Email));
    assert_eq!(
        text,
        "Thank you, Rosa, for bringing Friend0 into the campaign!"
    );
}

#[tokio::test]
async fn referral_thanks_fifth_referral_makes_a_recruiter() {
    let plugin = load("referral-thanks").await;
    let out = run(
        &plugin,
        event(
            "person.referred",
            id(14),
            json!({"person_id": id(14), "referrer_person_id": id(1)}),
        ),
        json!({}),
        grants_all(&plugin),
        &fixtures(referral_fixtures(5, 0)),
    )
    .await;
    ok(&out);
    assert_eq!(out.effects.len(), 2, "{:?}", out.effects);
    assert_eq!(
        out.effects[1],
        Effect::AddTag {
            person_id: id(1),
            tag: "recruiter".into()
        }
    );
}

#[tokio::test]
async fn referral_thanks_does_not_count_other_organizations() {
    let plugin = load("referral-thanks").await;
    // Four here and three in another organization: not five.
    let out = run(
        &plugin,
        event("person.referred", id(10), json!({})),
        json!({}),
        grants_all(&plugin),
        &fixtures(referral_fixtures(4, 3)),
    )
    .await;
    ok(&out);
    assert_eq!(out.effects.len(), 1, "{:?}", out.effects);
    assert!(
        out.logs
            .iter()
            .any(|l| l.message.contains("has referred 4 people")),
        "{:?}",
        out.logs
    );
}

#[tokio::test]
async fn describe_reports_what_the_examples_need() {
    let plugin = load("welcome-volunteer").await;
    let info = plugin.describe();
    assert_eq!(info.name, "welcome-volunteer");
    assert_eq!(info.handles, vec!["person.signed_up".to_string()]);
    assert!(
        info.capabilities
            .contains(&turnout_plugin_host::Capability::SendMessages)
    );
    assert_eq!(info.config_schema["type"], "object");
    assert_eq!(plugin.contract_version(), "0.1.0");
}
