//! Time-driven work on a real database: shift reminders (once per RSVP and offset, latest
//! offset only when several are due) and the missed-shift sweep (once per RSVP, ever), and the
//! tick claim that lets several worker processes share one schedule.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use turnout_domain::schedule;
use turnout_entity::{domain_events, events, people, rsvps, shifts};
use uuid::Uuid;

use crate::harness::{TestApp, data};

/// Signs up people through the public form and returns their ids.
async fn people(app: &TestApp, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let email = format!("p{i}@example.org");
        let body = app
            .public(
                r#"mutation($input: SignUpInput!) { signUp(form: "volunteer", input: $input) { submissionId } }"#,
                json!({ "input": { "firstName": format!("P{i}"), "email": email } }),
            )
            .await;
        data(&body);
        let person = people::Entity::find()
            .filter(people::Column::Email.eq(email))
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap();
        ids.push(person.id);
    }
    ids
}

/// An event with one shift, and an RSVP with `status` per person.
async fn shift_with(
    app: &TestApp,
    starts_at: chrono::DateTime<Utc>,
    offsets: serde_json::Value,
    attendees: &[(Uuid, &str)],
) -> (Uuid, Vec<Uuid>) {
    let now = Utc::now();
    let event = events::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        title: Set("Canvass".into()),
        time_zone: Set("America/New_York".into()),
        visibility: Set("public".into()),
        status: Set("active".into()),
        reminder_offsets_minutes: Set(offsets),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    let shift = shifts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        event_id: Set(event.id),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + Duration::hours(3)),
        host_token_hash: Set(Uuid::now_v7().to_string()),
        sequence: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    let mut rsvp_ids = Vec::new();
    for (person, status) in attendees {
        let rsvp = rsvps::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(app.org_id),
            shift_id: Set(shift.id),
            person_id: Set(*person),
            status: Set((*status).to_owned()),
            checked_in_at: Set((*status == "attended").then_some(now)),
            public_token: Set(Uuid::now_v7().simple().to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db.conn())
        .await
        .unwrap();
        rsvp_ids.push(rsvp.id);
    }
    (shift.id, rsvp_ids)
}

async fn events_of(app: &TestApp, kind: &str) -> Vec<domain_events::Model> {
    domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq(kind))
        .all(app.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn reminders_are_recorded_once_and_only_the_latest_due_offset_is_sent() {
    let app = TestApp::spawn().await;
    let ids = people(&app, 3).await;
    let now = Utc::now();
    // Starts in 90 minutes: both the 24 h and the 2 h reminders are due; only the 2 h one goes.
    let (_, rsvp_ids) = shift_with(
        &app,
        now + Duration::minutes(90),
        json!([1440, 120]),
        &[
            (ids[0], "signed_up"),
            (ids[1], "confirmed"),
            (ids[2], "cancelled"),
        ],
    )
    .await;
    // Starts in 3 days: nothing due yet.
    shift_with(
        &app,
        now + Duration::days(3),
        json!([1440, 120]),
        &[(ids[0], "confirmed")],
    )
    .await;

    assert_eq!(
        schedule::record_due_reminders(&app.db, now).await.unwrap(),
        2
    );
    let due = events_of(&app, "shift.reminder_due").await;
    assert_eq!(
        due.len(),
        2,
        "one per expected attendee, none for the cancelled RSVP"
    );
    assert!(due.iter().all(|e| e.payload["offset_minutes"] == 120));
    let mut reminded: Vec<Uuid> = due.iter().map(|e| e.subject_id).collect();
    reminded.sort();
    let mut expected = rsvp_ids[..2].to_vec();
    expected.sort();
    assert_eq!(reminded, expected);

    // Ticking again (or on another worker) sends nothing more.
    assert_eq!(
        schedule::record_due_reminders(&app.db, now + Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(events_of(&app, "shift.reminder_due").await.len(), 2);

    // Two days later the other shift's 24 h reminder comes due.
    let later = now + Duration::days(2) + Duration::minutes(1);
    assert_eq!(
        schedule::record_due_reminders(&app.db, later)
            .await
            .unwrap(),
        1
    );
    let due = events_of(&app, "shift.reminder_due").await;
    assert_eq!(
        due.iter()
            .filter(|e| e.payload["offset_minutes"] == 1440)
            .count(),
        1
    );
}

#[tokio::test]
async fn missed_shifts_are_marked_once_ever() {
    let app = TestApp::spawn().await;
    let ids = people(&app, 4).await;
    let now = Utc::now();
    let (_, rsvp_ids) = shift_with(
        &app,
        now - Duration::hours(5),
        json!([]),
        &[
            (ids[0], "signed_up"),
            (ids[1], "confirmed"),
            (ids[2], "attended"),
            (ids[3], "cancelled"),
        ],
    )
    .await;
    // Within the grace period nothing happens.
    assert_eq!(
        schedule::sweep_missed_shifts(&app.db, now, Duration::hours(3))
            .await
            .unwrap(),
        0
    );
    // Two no-shows and one check-in.
    assert_eq!(
        schedule::sweep_missed_shifts(&app.db, now, Duration::hours(1))
            .await
            .unwrap(),
        3
    );
    let attended = events_of(&app, "shift.attended").await;
    assert_eq!(attended.len(), 1);
    assert_eq!(attended[0].subject_id, ids[2]);
    assert_eq!(attended[0].payload["rsvp_id"], json!(rsvp_ids[2]));
    let missed = events_of(&app, "shift.missed").await;
    assert_eq!(missed.len(), 2);
    // The payload the plugin guide promises (docs/events.md): snake_case, the person named.
    for event in &missed {
        assert_eq!(
            event.payload["person_id"],
            json!(event.subject_id),
            "{}",
            event.payload
        );
        assert!(event.payload["shift_id"].is_string(), "{}", event.payload);
        assert!(event.payload["rsvp_id"].is_string(), "{}", event.payload);
        assert!(event.payload["ended_at"].is_string(), "{}", event.payload);
    }
    for id in &rsvp_ids[..2] {
        let rsvp = rsvps::Entity::find_by_id(*id)
            .one(app.db.conn())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rsvp.status, "no_show");
        assert!(rsvp.missed_at.is_some());
    }
    let attended = rsvps::Entity::find_by_id(rsvp_ids[2])
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attended.status, "attended");

    // An organizer sets one back to confirmed: the sweep does not count it again, ever.
    let mut back: rsvps::ActiveModel = rsvps::Entity::find_by_id(rsvp_ids[0])
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap()
        .into();
    back.status = Set("confirmed".into());
    back.update(app.db.conn()).await.unwrap();
    assert_eq!(
        schedule::sweep_missed_shifts(&app.db, now + Duration::minutes(1), Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(events_of(&app, "shift.missed").await.len(), 2);
    assert_eq!(events_of(&app, "shift.attended").await.len(), 1);
}

#[tokio::test]
async fn a_tick_is_claimed_by_one_worker_only() {
    let app = TestApp::spawn().await;
    let tick = Utc::now();
    let claims = futures::future::join_all(
        (0..5).map(|_| schedule::claim_tick(&app.db, "test.schedule", tick)),
    )
    .await;
    assert_eq!(claims.iter().filter(|c| matches!(c, Ok(true))).count(), 1);
    assert!(claims.iter().all(|c| c.is_ok()));
    assert!(
        schedule::claim_tick(&app.db, "other.schedule", tick)
            .await
            .unwrap()
    );
}
