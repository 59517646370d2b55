//! After a shift: once it is over (plus the grace period), the sweep records `shift.attended`
//! for each check-in and `shift.missed` for each no-show, and an organization that switches
//! them on sends a thank-you and a "we missed you", by email or by text, once per RSVP. Off
//! (the default), the same sweep sends nothing.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use turnout_domain::schedule;
use turnout_entity::{domain_events, messages};

use crate::events::{create_event, event_input};
use crate::harness::{TestApp, data};
use crate::messaging::FROM_NUMBER;
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;
use crate::support::twilio::{FakeTwilio, webhook_api};

const RSVP: &str =
    r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status } }"#;
const SETTINGS: &str = "mutation($i: OrganizationSettingsInput!) {
    updateOrganizationSettings(input: $i) { thankAttendees followUpNoShows organizerDigest } }";

/// An event whose one shift has Ada (email) and Bob (phone, texts) checked in and Cy (email)
/// expected; returns the shift's end.
async fn shift_with_three(app: &TestApp, tag: &str) -> chrono::DateTime<Utc> {
    let (event, shift, _) = create_event(app, event_input("PUBLIC", Some(10))).await;
    for input in [
        json!({ "firstName": "Ada", "email": format!("ada.{tag}@example.org") }),
        json!({ "firstName": "Bob", "phone": format!("+1202555{tag}"), "smsConsent": true }),
        json!({ "firstName": "Cy", "email": format!("cy.{tag}@example.org") }),
    ] {
        data(&app.public(RSVP, json!({ "s": shift, "i": input })).await);
    }
    let body = app
        .gql(
            "query($id: ID!) { event(id: $id) { shifts { endsAt rsvps { id person { firstName } } } } }",
            json!({ "id": event }),
        )
        .await;
    let shifts = &data(&body)["event"]["shifts"][0];
    for rsvp in shifts["rsvps"].as_array().unwrap() {
        if rsvp["person"]["firstName"] != "Cy" {
            data(
                &app.gql(
                    "mutation($id: ID!) { checkInRsvp(id: $id) { status } }",
                    json!({ "id": rsvp["id"] }),
                )
                .await,
            );
        }
    }
    shifts["endsAt"].as_str().unwrap().parse().unwrap()
}

async fn after_shift_messages(app: &TestApp) -> Vec<messages::Model> {
    messages::Entity::find()
        .filter(messages::Column::Template.is_in(["shift_thanks", "shift_missed"]))
        .all(app.db.conn())
        .await
        .unwrap()
}

/// Waits until the worker has handled every event recorded so far.
async fn settled(app: &TestApp) {
    eventually("every event handled", || async {
        let open = domain_events::Entity::find()
            .filter(domain_events::Column::ProcessedAt.is_null())
            .all(app.db.conn())
            .await
            .unwrap();
        open.is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn after_a_shift_attendees_are_thanked_and_no_shows_missed_once_switched_on() {
    let smtp = SmtpServer::start().await;
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, smtp.messaging());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    let grace = Duration::hours(1);

    // Off by default: the sweep records the events and nobody is messaged.
    let ends = shift_with_three(&app, "0101").await;
    let swept = schedule::sweep_missed_shifts(&app.db, ends + grace, grace)
        .await
        .unwrap();
    assert_eq!(swept, 3, "two check-ins and a no-show");
    settled(&app).await;
    assert!(after_shift_messages(&app).await.is_empty());

    // Switched on.
    let body = app
        .gql(
            SETTINGS,
            json!({ "i": { "thankAttendees": true, "followUpNoShows": true } }),
        )
        .await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"],
        json!({ "thankAttendees": true, "followUpNoShows": true, "organizerDigest": false })
    );
    let ends = shift_with_three(&app, "0102").await;
    let mails_before = smtp.mails().len();
    // The sweep that ran for the first shift already closed it; only the new one counts.
    assert_eq!(
        schedule::sweep_missed_shifts(&app.db, ends + grace, grace)
            .await
            .unwrap(),
        3
    );
    let (thanks, missed, text) = eventually("the thank-yous and the we-missed-you", || async {
        let mails = smtp.mails();
        let new = &mails[mails_before..];
        let thanks = new
            .iter()
            .find(|m| {
                m.data
                    .contains("Subject: Thank you for coming to Saturday canvass")
            })?
            .clone();
        let missed = new
            .iter()
            .find(|m| {
                m.data
                    .contains("Subject: We missed you at Saturday canvass")
            })?
            .clone();
        let text = tw
            .received()
            .into_iter()
            .find(|t| t.form["Body"].contains("thank you for coming"))?;
        Some((thanks, missed, text))
    })
    .await;
    assert_eq!(thanks.to, ["ada.0102@example.org"]);
    assert_eq!(missed.to, ["cy.0102@example.org"]);
    // The thank-you points at what's next: the organization's public events.
    assert!(thanks.data.contains("/events?org="), "{}", thanks.data);
    assert_eq!(text.form["To"], "+12025550102");
    assert!(
        text.form["Body"].contains("thank you for coming to Saturday canvass"),
        "{:?}",
        text.form
    );

    // Once per RSVP: the next sweep (and a dispatch that runs again) sends nothing more.
    assert_eq!(
        schedule::sweep_missed_shifts(&app.db, ends + grace * 2, grace)
            .await
            .unwrap(),
        0
    );
    settled(&app).await;
    let sent = after_shift_messages(&app).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|m| m.template.as_deref() == Some("shift_thanks"))
            .count(),
        2
    );
}
