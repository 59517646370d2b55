//! The show-up loop when plans change: a shift that moves, or is cancelled, sends each person
//! with a seat the news (email with the updated invite, or a text to a phone-only volunteer);
//! a change that does not reach calendars (capacity, a description) sends nothing.

use std::time::Duration;

use serde_json::json;

use crate::events::{create_event, event_input};
use crate::harness::{TestApp, data};
use crate::messaging::FROM_NUMBER;
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;
use crate::support::twilio::{FakeTwilio, webhook_api};

#[tokio::test]
async fn a_moved_or_cancelled_shift_tells_everyone_with_a_seat() {
    let smtp = SmtpServer::start().await;
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, smtp.messaging());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    let (event, shift, _) = create_event(&app, event_input("PUBLIC", Some(10))).await;
    let rsvp =
        r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status } }"#;
    for input in [
        json!({ "firstName": "Ada", "email": "ada@example.org" }),
        json!({ "firstName": "Bob", "phone": "+12025550191", "smsConsent": true }),
    ] {
        data(&app.public(rsvp, json!({ "s": shift, "i": input })).await);
    }
    eventually("both confirmations", || async {
        (smtp.mails().len() == 1 && tw.received().len() == 1).then_some(())
    })
    .await;

    // Capacity and the description reach no calendar: nobody is told.
    let update_shift =
        "mutation($id: ID!, $i: UpdateShiftInput!) { updateShift(id: $id, input: $i) { id } }";
    data(
        &app.gql(
            update_shift,
            json!({ "id": shift, "i": { "capacity": 20 } }),
        )
        .await,
    );
    data(
        &app.gql(
            "mutation($id: ID!) { updateEvent(id: $id, input: { description: \"Bring water.\" }) { id } }",
            json!({ "id": event }),
        )
        .await,
    );

    // Moved an hour later: Ada's email carries the new invite, Bob gets a text.
    let later = chrono::Utc::now() + chrono::Duration::days(1) + chrono::Duration::hours(1);
    data(
        &app.gql(
            update_shift,
            json!({ "id": shift, "i": { "startsAt": later.to_rfc3339(),
                "endsAt": (later + chrono::Duration::hours(3)).to_rfc3339() } }),
        )
        .await,
    );
    let mails = eventually("the change by email", || async {
        let mails = smtp.mails();
        (mails.len() >= 2).then_some(mails)
    })
    .await;
    let moved = &mails[1];
    assert_eq!(moved.to, ["ada@example.org"]);
    assert!(
        moved.data.contains("Changed: Saturday canvass"),
        "{}",
        moved.data
    );
    assert!(moved.data.contains("METHOD:REQUEST"), "{}", moved.data);
    // The description is in the invite too (its sequence went to 1, silently), then the move.
    assert!(moved.data.contains("SEQUENCE:2"), "{}", moved.data);
    let texts = eventually("the change by text", || async {
        let texts = tw.received();
        (texts.len() >= 2).then_some(texts)
    })
    .await;
    assert_eq!(texts[1].form["To"], "+12025550191");
    assert!(
        texts[1].form["Body"].contains("has changed"),
        "{:?}",
        texts[1].form
    );

    // Cancelled: the invite becomes a cancellation.
    data(
        &app.gql(
            "mutation($id: ID!) { cancelShift(id: $id) { id } }",
            json!({ "id": shift }),
        )
        .await,
    );
    let mails = eventually("the cancellation by email", || async {
        let mails = smtp.mails();
        (mails.len() >= 3).then_some(mails)
    })
    .await;
    assert!(
        mails[2].data.contains("Cancelled: Saturday canvass"),
        "{}",
        mails[2].data
    );
    assert!(mails[2].data.contains("METHOD:CANCEL"), "{}", mails[2].data);
    let texts = eventually("the cancellation by text", || async {
        let texts = tw.received();
        (texts.len() >= 3).then_some(texts)
    })
    .await;
    assert!(
        texts[2].form["Body"].contains("is cancelled"),
        "{:?}",
        texts[2].form
    );

    // One message per person per change: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!((smtp.mails().len(), tw.received().len()), (3, 3));
}
