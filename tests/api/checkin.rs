//! Check-in through a shift's host link: the roster, check-ins, walk-ins, rotation.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use turnout_entity::{domain_events, people};

use crate::events::{create_event, event_input, person};
use crate::harness::{TestApp, data, error_code};

const HOST_SHIFT: &str = "query($t: String!) { hostShift(hostToken: $t) {
    eventTitle timeZone startsAt capacity roster { id rsvpId firstName lastName status checkedInAt }
} }";
const HOST_CHECK_IN: &str = "mutation($t: String!, $r: ID!) { hostCheckIn(hostToken: $t, rsvpId: $r) { rsvpId status checkedInAt entry { id firstName status } } }";
const WALK_IN: &str = "mutation($t: String!, $i: PublicRsvpInput!) {
    hostAddWalkIn(hostToken: $t, input: $i) { rsvpId status checkedInAt entry { id firstName } }
}";

#[tokio::test]
async fn a_host_checks_people_in_and_adds_walk_ins() {
    let app = TestApp::spawn().await;
    let (_, shift, token) = create_event(&app, event_input("PRIVATE", Some(1))).await;
    let (_, other_shift, _) = create_event(&app, event_input("PRIVATE", None)).await;
    let ada = person(&app, "Ada", "ada@example.org").await;
    let body = app
        .gql(
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
            json!({ "s": shift, "p": ada }),
        )
        .await;
    let rsvp = data(&body)["createRsvp"]["id"].as_str().unwrap().to_owned();
    let body = app
        .gql(
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
            json!({ "s": other_shift, "p": ada }),
        )
        .await;
    let elsewhere = data(&body)["createRsvp"]["id"].as_str().unwrap().to_owned();

    // The roster, without contact details.
    let body = app.public(HOST_SHIFT, json!({ "t": token })).await;
    let host = &data(&body)["hostShift"];
    assert_eq!(host["eventTitle"], "Saturday canvass");
    assert_eq!(host["roster"][0]["firstName"], "Ada");
    assert_eq!(host["roster"][0]["status"], "SIGNED_UP");
    assert_eq!(host["roster"][0]["rsvpId"], json!(rsvp));
    // The entry's identity in a client cache is the RSVP's.
    assert_eq!(host["roster"][0]["id"], json!(rsvp));
    let (_, body) = app
        .gql_as(
            None,
            "query($t: String!) { hostShift(hostToken: $t) { roster { email } } }",
            json!({ "t": token }),
        )
        .await;
    assert!(
        body["errors"].is_array(),
        "the roster has no email field: {body}"
    );

    // Wrong tokens see and do nothing.
    for bad in ["", "wrong", &format!("{token}x")] {
        let body = app.public(HOST_SHIFT, json!({ "t": bad })).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        let body = app
            .public(HOST_CHECK_IN, json!({ "t": bad, "r": rsvp }))
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        let body = app
            .public(
                WALK_IN,
                json!({ "t": bad, "i": { "firstName": "Eve", "email": "eve@example.org" } }),
            )
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    // The host of one shift cannot check in an RSVP of another.
    let body = app
        .public(HOST_CHECK_IN, json!({ "t": token, "r": elsewhere }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    let body = app
        .public(HOST_CHECK_IN, json!({ "t": token, "r": rsvp }))
        .await;
    let checked = &data(&body)["hostCheckIn"];
    assert_eq!(checked["status"], "ATTENDED");
    assert!(checked["checkedInAt"].is_string());
    // The roster entry as it now stands, under the roster's own id, so a cache updates it.
    assert_eq!(
        checked["entry"],
        json!({ "id": rsvp, "firstName": "Ada", "status": "ATTENDED" })
    );
    let event = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("shift.checked_in"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("shift.checked_in");
    assert_eq!(event.payload["status"], "attended");
    // About a shift, and about the person checked in, whom it names.
    assert_eq!(event.subject_type, "shift");
    assert!(event.payload["person_id"].is_string(), "{}", event.payload);

    // A walk-in who is new, over capacity, and one who is known (by phone).
    let body = app
        .public(
            WALK_IN,
            json!({ "t": token, "i": { "firstName": "Bo", "lastName": "Diddley", "phone": "(202) 555-0143" } }),
        )
        .await;
    assert_eq!(data(&body)["hostAddWalkIn"]["status"], "ATTENDED");
    assert_eq!(data(&body)["hostAddWalkIn"]["entry"]["firstName"], "Bo");
    assert_eq!(
        data(&body)["hostAddWalkIn"]["entry"]["id"],
        data(&body)["hostAddWalkIn"]["rsvpId"]
    );
    let people_before = app.count(people::Entity).await;
    let body = app
        .public(
            WALK_IN,
            json!({ "t": token, "i": { "firstName": "Bo", "phone": "+12025550143" } }),
        )
        .await;
    assert_eq!(data(&body)["hostAddWalkIn"]["status"], "ATTENDED");
    assert_eq!(
        app.count(people::Entity).await,
        people_before,
        "the same Bo"
    );
    let body = app.public(HOST_SHIFT, json!({ "t": token })).await;
    let roster = data(&body)["hostShift"]["roster"].as_array().unwrap();
    assert_eq!(roster.len(), 2);
    assert!(roster.iter().all(|r| r["status"] == "ATTENDED"));
    // Staff see who walked in.
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Shift { rsvps { walkIn person { firstName } } } } }",
            json!({ "id": shift }),
        )
        .await;
    let mut walk_ins: Vec<(String, bool)> = data(&body)["node"]["rsvps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person"]["firstName"].as_str().unwrap().to_owned(),
                r["walkIn"].as_bool().unwrap(),
            )
        })
        .collect();
    walk_ins.sort();
    assert_eq!(walk_ins.len(), 2, "{walk_ins:?}");
    assert!(walk_ins.contains(&("Bo".to_owned(), true)), "{walk_ins:?}");
    assert!(
        walk_ins.iter().any(|(n, w)| n != "Bo" && !w),
        "{walk_ins:?}"
    );

    // Rotating the link: the old token stops working, the new one works.
    let body = app
        .gql(
            "mutation($id: ID!) { rotateShiftHostToken(id: $id) { hostToken hostUrl } }",
            json!({ "id": shift }),
        )
        .await;
    let fresh = data(&body)["rotateShiftHostToken"]["hostToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, token);
    let body = app.public(HOST_SHIFT, json!({ "t": token })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app.public(HOST_SHIFT, json!({ "t": fresh })).await;
    assert_eq!(
        data(&body)["hostShift"]["roster"].as_array().unwrap().len(),
        2
    );

    // A cancelled shift checks no one in.
    data(
        &app.gql(
            "mutation($id: ID!) { cancelShift(id: $id) { id } }",
            json!({ "id": shift }),
        )
        .await,
    );
    let body = app
        .public(
            WALK_IN,
            json!({ "t": fresh, "i": { "firstName": "Cy", "email": "cy@example.org" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}
