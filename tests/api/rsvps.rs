//! RSVPs: capacity and the waitlist, the public RSVP (dedupe, referral), cancellation,
//! confirmation, and calendar invites.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{domain_events, people, rsvps};

use crate::events::{create_event, event_input, kinds, person};
use crate::harness::{TestApp, data, error_code};

const CREATE_RSVP: &str = "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id status icsUrl person { email } shift { id } } }";

const PUBLIC_RSVP: &str = "mutation($s: ID!, $i: PublicRsvpInput!) {
    rsvp(shiftId: $s, input: $i) { status token icsUrl referralCode }
}";

async fn staff_rsvp(app: &TestApp, shift: &str, person: &str) -> Value {
    let body = app
        .gql(CREATE_RSVP, json!({ "s": shift, "p": person }))
        .await;
    data(&body)["createRsvp"].clone()
}

async fn get_ics(app: &TestApp, path: &str) -> (u16, Option<String>, String) {
    // `icsUrl` is absolute; other callers pass a path.
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", app.base)
    };
    let resp = app.client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, ct, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_full_shift_waitlists_and_a_cancellation_promotes_the_oldest() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PRIVATE", Some(2))).await;
    let mut ids = Vec::new();
    for (i, name) in ["Ada", "Bo", "Cy", "Di"].iter().enumerate() {
        let p = person(&app, name, &format!("p{i}@example.org")).await;
        ids.push((p.clone(), staff_rsvp(&app, &shift, &p).await));
    }
    let statuses: Vec<_> = ids.iter().map(|(_, r)| r["status"].clone()).collect();
    assert_eq!(
        statuses,
        vec![
            json!("SIGNED_UP"),
            json!("SIGNED_UP"),
            json!("WAITLISTED"),
            json!("WAITLISTED")
        ]
    );
    assert_eq!(ids[0].1["person"]["email"], "p0@example.org");

    // RSVPing again changes nothing.
    let again = staff_rsvp(&app, &shift, &ids[0].0).await;
    assert_eq!(again["id"], ids[0].1["id"]);

    // Cancel a seated RSVP: Cy (the oldest waitlisted) is promoted, Di still waits.
    let body = app
        .gql(
            "mutation($id: ID!) { cancelRsvp(id: $id) { status } }",
            json!({ "id": ids[1].1["id"] }),
        )
        .await;
    assert_eq!(data(&body)["cancelRsvp"]["status"], "CANCELLED");
    let body = app
        .gql(
            "query($id: ID!) { shift(id: $id) { seatsTaken seatsLeft rsvps { status person { firstName } } } }",
            json!({ "id": shift }),
        )
        .await;
    let roster: Vec<_> = data(&body)["shift"]["rsvps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["person"]["firstName"].as_str().unwrap(),
                r["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        roster,
        vec![
            "Ada:SIGNED_UP",
            "Bo:CANCELLED",
            "Cy:SIGNED_UP",
            "Di:WAITLISTED"
        ]
    );
    assert_eq!(data(&body)["shift"]["seatsLeft"], 0);

    // Bo comes back: the shift is full, so Bo waits behind Di.
    let back = staff_rsvp(&app, &shift, &ids[1].0).await;
    assert_eq!(back["id"], ids[1].1["id"], "the same RSVP, reactivated");
    assert_eq!(back["status"], "WAITLISTED");

    // More capacity promotes the waitlist in order.
    let body = app
        .gql(
            "mutation($id: ID!) { updateShift(id: $id, input: { capacity: 3 }) { seatsLeft rsvps { status person { firstName } } } }",
            json!({ "id": shift }),
        )
        .await;
    let rsvps = data(&body)["updateShift"]["rsvps"].as_array().unwrap();
    assert_eq!(rsvps[3]["status"], "SIGNED_UP", "Di was waiting longer");
    assert_eq!(rsvps[1]["status"], "WAITLISTED");

    let events = kinds(&app).await;
    let count = |k: &str| events.iter().filter(|e| e.as_str() == k).count();
    assert_eq!(count("rsvp.created"), 5, "four new and one reactivated");
    assert_eq!(count("rsvp.cancelled"), 1);
    assert_eq!(count("rsvp.promoted"), 2);
    let promoted = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("rsvp.promoted"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    for key in ["rsvp_id", "person_id", "shift_id", "event_id", "status"] {
        assert!(
            !promoted.payload[key].is_null(),
            "{key} in {}",
            promoted.payload
        );
    }
    assert_eq!(promoted.payload["status"], "signed_up");
}

#[tokio::test]
async fn concurrent_rsvps_never_overfill_a_shift() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(3))).await;
    let futures = (0..12).map(|i| {
        let app = &app;
        let shift = shift.clone();
        async move {
            app.public(
                PUBLIC_RSVP,
                json!({ "s": shift, "i": { "firstName": format!("V{i}"), "email": format!("v{i}@example.org") } }),
            )
            .await
        }
    });
    let bodies = futures::future::join_all(futures).await;
    let mut signed = 0;
    let mut waiting = 0;
    for body in &bodies {
        match data(body)["rsvp"]["status"].as_str().unwrap() {
            "SIGNED_UP" => signed += 1,
            "WAITLISTED" => waiting += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((signed, waiting), (3, 9));
    let seated = rsvps::Entity::find()
        .filter(rsvps::Column::Status.eq("signed_up"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(seated.len(), 3);
}

#[tokio::test]
async fn a_public_rsvp_dedupes_the_person_and_credits_the_referrer() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", None)).await;
    let ada = person(&app, "Ada", "ada@example.org").await;
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { referralCode referralQueryString } }",
            json!({ "id": ada }),
        )
        .await;
    let code = data(&body)["person"]["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        data(&body)["person"]["referralQueryString"],
        json!(format!("ref={code}"))
    );

    // Ada RSVPs herself with her email in another case: still one Ada.
    let body = app
        .public(
            PUBLIC_RSVP,
            json!({ "s": shift, "i": { "firstName": "Ada", "email": "ADA@example.org", "phone": "(202) 555-0143" } }),
        )
        .await;
    assert_eq!(data(&body)["rsvp"]["status"], "SIGNED_UP");
    assert_eq!(data(&body)["rsvp"]["referralCode"], json!(code));
    assert_eq!(app.count(people::Entity).await, 1);
    let stored = people::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.phone.as_deref(),
        Some("+12025550143"),
        "updated as a sign-up would"
    );

    // Bo arrives through Ada's link.
    let body = app
        .public(
            PUBLIC_RSVP,
            json!({ "s": shift, "i": { "firstName": "Bo", "email": "bo@example.org", "referralCode": code.to_uppercase() } }),
        )
        .await;
    let token = data(&body)["rsvp"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        data(&body)["rsvp"]["icsUrl"],
        json!(format!("{}/ics/{token}.ics", app.base))
    );
    let bo = people::Entity::find()
        .filter(people::Column::Email.eq("bo@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bo.referred_by_person_id, Some(stored.id));
    let rsvp = rsvps::Entity::find()
        .filter(rsvps::Column::PersonId.eq(bo.id))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rsvp.referrer_person_id, Some(stored.id));
    assert_eq!(
        bo.source.as_deref().map(|s| s.starts_with("event:")),
        Some(true)
    );

    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) {
                referralCount referrals(first: 10) { edges { node { email referredById } } }
                rsvps { status referrerId shift { id event { title } } }
            } }",
            json!({ "id": ada }),
        )
        .await;
    let p = &data(&body)["person"];
    assert_eq!(p["referralCount"], 1);
    assert_eq!(
        p["referrals"]["edges"][0]["node"]["email"],
        "bo@example.org"
    );
    assert_eq!(
        p["referrals"]["edges"][0]["node"]["referredById"],
        json!(ada)
    );
    assert_eq!(p["rsvps"][0]["shift"]["id"], json!(shift));
    assert_eq!(p["rsvps"][0]["shift"]["event"]["title"], "Saturday canvass");
    assert_eq!(p["rsvps"][0]["referrerId"], Value::Null);

    // Bad input is refused before anything is written.
    let before = app.count(people::Entity).await;
    for input in [
        json!({ "firstName": "Cy" }),
        json!({ "firstName": "Cy", "email": "nope" }),
        json!({ "firstName": " ", "email": "cy@example.org" }),
    ] {
        let body = app
            .public(PUBLIC_RSVP, json!({ "s": shift, "i": input }))
            .await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    }
    assert_eq!(app.count(people::Entity).await, before);
}

#[tokio::test]
async fn cancelled_shifts_events_and_private_events_take_no_public_rsvps() {
    let app = TestApp::spawn().await;
    let (event, shift, _) = create_event(&app, event_input("PUBLIC", None)).await;
    let (_, private_shift, _) = create_event(&app, event_input("PRIVATE", None)).await;
    let input = json!({ "firstName": "Ada", "email": "ada@example.org" });
    let body = app
        .public(PUBLIC_RSVP, json!({ "s": private_shift, "i": input }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let missing =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Shift, uuid::Uuid::now_v7());
    let body = app
        .public(PUBLIC_RSVP, json!({ "s": missing, "i": input }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    data(
        &app.gql(
            "mutation($id: ID!) { cancelShift(id: $id) { id } }",
            json!({ "id": shift }),
        )
        .await,
    );
    let body = app
        .public(PUBLIC_RSVP, json!({ "s": shift, "i": input }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("shift is cancelled")
    );
    let ada = person(&app, "Ada", "ada@example.org").await;
    let body = app.gql(CREATE_RSVP, json!({ "s": shift, "p": ada })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // A new shift of the same event, then the whole event is cancelled.
    let start = chrono::Utc::now() + chrono::Duration::days(4);
    let body = app
        .gql(
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) { addShift(eventId: $id, input: { startsAt: $s, endsAt: $e }) { shift { id } } }",
            json!({ "id": event, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    let second = data(&body)["addShift"]["shift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(
        &app.gql(
            "mutation($id: ID!) { cancelEvent(id: $id) { id } }",
            json!({ "id": event }),
        )
        .await,
    );
    let body = app
        .public(PUBLIC_RSVP, json!({ "s": second, "i": input }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(app.count(rsvps::Entity).await, 0);
}

#[tokio::test]
async fn rsvps_are_confirmed_marked_and_cancelled_by_their_token() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(1))).await;
    let body = app
        .public(
            PUBLIC_RSVP,
            json!({ "s": shift, "i": { "firstName": "Ada", "email": "ada@example.org" } }),
        )
        .await;
    let token = data(&body)["rsvp"]["token"].as_str().unwrap().to_owned();
    let bo = person(&app, "Bo", "bo@example.org").await;
    let waiting = staff_rsvp(&app, &shift, &bo).await;
    assert_eq!(waiting["status"], "WAITLISTED");
    let body = app
        .gql(
            "mutation($id: ID!) { confirmRsvp(id: $id) { status } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Wrong tokens find nothing.
    for bad in ["", "nope", &"x".repeat(500)] {
        let body = app
            .public(
                "mutation($t: String!) { cancelRsvpByToken(token: $t) }",
                json!({ "t": bad }),
            )
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    let body = app
        .public(
            "mutation($t: String!) { cancelRsvpByToken(token: $t) }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(data(&body)["cancelRsvpByToken"], "CANCELLED");
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Rsvp { status } } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(
        data(&body)["node"]["status"],
        "SIGNED_UP",
        "promoted into the freed seat"
    );
    let body = app
        .gql(
            "mutation($id: ID!) { confirmRsvp(id: $id) { status } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(data(&body)["confirmRsvp"]["status"], "CONFIRMED");
    let body = app
        .gql(
            "mutation($id: ID!) { markRsvpNoShow(id: $id) { status checkedInAt } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(data(&body)["markRsvpNoShow"]["status"], "NO_SHOW");
    let body = app
        .gql(
            "mutation($id: ID!) { checkInRsvp(id: $id) { status checkedInAt } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(data(&body)["checkInRsvp"]["status"], "ATTENDED");
    assert!(data(&body)["checkInRsvp"]["checkedInAt"].is_string());
    assert!(kinds(&app).await.iter().any(|k| k == "shift.checked_in"));
    let body = app
        .gql(
            "mutation($id: ID!) { cancelRsvp(id: $id) { status } }",
            json!({ "id": waiting["id"] }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("CONFLICT"),
        "attended stays: {body}"
    );

    let missing =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Rsvp, uuid::Uuid::now_v7());
    let body = app
        .gql(
            "mutation($id: ID!) { cancelRsvp(id: $id) { status } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let ghost =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Person, uuid::Uuid::now_v7());
    let body = app
        .gql(CREATE_RSVP, json!({ "s": shift, "p": ghost }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let actions: Vec<String> = turnout_entity::audit_log::Entity::find()
        .filter(turnout_entity::audit_log::Column::ObjectType.eq("rsvp"))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for action in [
        "rsvp.create",
        "rsvp.cancel",
        "rsvp.confirm",
        "rsvp.no_show",
        "rsvp.check_in",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn each_rsvp_has_a_calendar_invite_that_follows_the_shift() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", None)).await;
    let body = app
        .public(
            PUBLIC_RSVP,
            json!({ "s": shift, "i": { "firstName": "Ada", "email": "ada@example.org" } }),
        )
        .await;
    let path = data(&body)["rsvp"]["icsUrl"].as_str().unwrap().to_owned();
    let token = data(&body)["rsvp"]["token"].as_str().unwrap().to_owned();
    let (status, ct, ics) = get_ics(&app, &path).await;
    assert_eq!(status, 200);
    assert!(ct.unwrap().starts_with("text/calendar"));
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.contains("\r\nMETHOD:REQUEST\r\n"));
    assert!(ics.contains("\r\nSEQUENCE:0\r\n"));
    assert!(ics.contains("\r\nSUMMARY:Saturday canvass\r\n"));
    assert!(ics.contains("\r\nLOCATION:Union Hall\\, 12 Main St\r\n"));
    let unfolded = ics.replace("\r\n ", "");
    assert!(unfolded.contains("DESCRIPTION:Bring water\\, comfy shoes\\; we supply clipboards."));
    assert!(ics.split("\r\n").all(|l| l.len() <= 75));
    assert!(unfolded.contains("\r\nORGANIZER;CN=\"Test Campaign\":mailto:"));
    assert!(unfolded.contains("PARTSTAT=ACCEPTED:mailto:ada@example.org\r\n"));
    let uid = ics
        .split("\r\n")
        .find(|l| l.starts_with("UID:"))
        .unwrap()
        .to_owned();

    // New times: the same UID, a higher SEQUENCE, the new DTSTART (UTC).
    let start = chrono::DateTime::parse_from_rfc3339("2027-03-06T14:00:00Z").unwrap();
    data(&app
        .gql(
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) { updateShift(id: $id, input: { startsAt: $s, endsAt: $e }) { sequence } }",
            json!({ "id": shift, "s": start.to_rfc3339(), "e": "2027-03-06T17:30:00Z" }),
        )
        .await);
    let (_, _, ics) = get_ics(&app, &path).await;
    assert!(ics.contains(&format!("\r\n{uid}\r\n")));
    assert!(ics.contains("\r\nSEQUENCE:1\r\n"), "{ics}");
    assert!(ics.contains("\r\nDTSTART:20270306T140000Z\r\n"));
    assert!(ics.contains("\r\nDTEND:20270306T173000Z\r\n"));

    // Cancelled: the invite becomes a cancellation.
    data(
        &app.public(
            "mutation($t: String!) { cancelRsvpByToken(token: $t) }",
            json!({ "t": token }),
        )
        .await,
    );
    let (_, _, ics) = get_ics(&app, &path).await;
    assert!(ics.contains("\r\nMETHOD:CANCEL\r\n"));
    assert!(ics.contains("\r\nSTATUS:CANCELLED\r\n"));

    for bad in ["/ics/nope.ics", "/ics/nope", &format!("/ics/{token}.txt")] {
        let (status, _, _) = get_ics(&app, bad).await;
        assert_eq!(status, 404, "{bad}");
    }
}

/// A public RSVP answers with its shift as it now stands, so a client's cached seat count
/// follows without a second read.
#[tokio::test]
async fn a_public_rsvp_answers_with_the_shift_as_it_now_stands() {
    let app = TestApp::spawn().await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(2))).await;
    let q = "mutation($s: ID!, $i: PublicRsvpInput!) {
        rsvp(shiftId: $s, input: $i) { status shift { id seatsLeft } } }";
    for (i, left, status) in [
        (0, 1, "SIGNED_UP"),
        (1, 0, "SIGNED_UP"),
        (2, 0, "WAITLISTED"),
    ] {
        let input = json!({ "firstName": "V", "email": format!("seat{i}@example.org") });
        let body = app.public(q, json!({ "s": shift, "i": input })).await;
        assert_eq!(
            data(&body)["rsvp"],
            json!({ "status": status, "shift": { "id": shift, "seatsLeft": left } }),
            "{body}"
        );
    }
}
