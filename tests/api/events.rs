//! Events and shifts: creation, validation, updates, cancellation, public reads and tenancy.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{audit_log, domain_events, shifts};

use crate::harness::{TestApp, data, error_code};

pub const CREATE_EVENT: &str = "mutation($i: CreateEventInput!) { createEvent(input: $i) {
    event { id title timeZone visibility status reminderOffsetsMinutes
            shifts { id startsAt endsAt capacity sequence } }
    hostLinks { hostToken hostUrl shift { id capacity } }
} }";

/// Input for an event with one shift (tomorrow, 3 hours) of `capacity`.
pub fn event_input(visibility: &str, capacity: Option<i32>) -> Value {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    json!({
        "title": "Saturday canvass",
        "description": "Bring water, comfy shoes; we supply clipboards.",
        "timeZone": "America/New_York",
        "location": "Union Hall, 12 Main St",
        "visibility": visibility,
        "shifts": [{
            "startsAt": start.to_rfc3339(),
            "endsAt": (start + chrono::Duration::hours(3)).to_rfc3339(),
            "capacity": capacity,
        }],
    })
}

/// Creates an event as the admin; returns (event id, shift id, host token).
pub async fn create_event(app: &TestApp, input: Value) -> (String, String, String) {
    let body = app.gql(CREATE_EVENT, json!({ "i": input })).await;
    let payload = &data(&body)["createEvent"];
    (
        payload["event"]["id"].as_str().unwrap().to_owned(),
        payload["hostLinks"][0]["shift"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload["hostLinks"][0]["hostToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// Signs a person up through the public form; returns their global ID.
pub async fn person(app: &TestApp, first_name: &str, email: &str) -> String {
    data(&app.public(
        "mutation($i: SignUpInput!) { signUp(form: \"volunteer\", input: $i) { submissionId } }",
        json!({ "i": { "firstName": first_name, "email": email } }),
    )
    .await);
    let body = app
        .gql(
            "query($s: String!) { people(first: 5, filter: { search: $s }) { edges { node { id email } } } }",
            json!({ "s": email }),
        )
        .await;
    let edges = data(&body)["people"]["edges"].as_array().unwrap().clone();
    edges
        .iter()
        .find(|e| e["node"]["email"] == json!(email))
        .expect("the person")["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn kinds(app: &TestApp) -> Vec<String> {
    domain_events::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

#[tokio::test]
async fn an_event_is_created_with_shifts_and_host_links_shown_once() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            CREATE_EVENT,
            json!({ "i": event_input("PUBLIC", Some(10)) }),
        )
        .await;
    let payload = &data(&body)["createEvent"];
    let event = &payload["event"];
    assert_eq!(event["title"], "Saturday canvass");
    assert_eq!(event["timeZone"], "America/New_York");
    assert_eq!(event["visibility"], "PUBLIC");
    assert_eq!(event["status"], "ACTIVE");
    assert_eq!(event["reminderOffsetsMinutes"], json!([1440, 120]));
    assert_eq!(event["shifts"][0]["capacity"], 10);
    assert_eq!(event["shifts"][0]["sequence"], 0);
    let token = payload["hostLinks"][0]["hostToken"].as_str().unwrap();
    assert!(token.len() >= 40, "an unguessable token: {token}");
    assert_eq!(
        payload["hostLinks"][0]["hostUrl"],
        json!(format!("{}/host/{token}", app.base)),
        "hostUrl is absolute, on the public base URL (here the listen address)"
    );
    // Only the token's hash is stored.
    let row = shifts::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.host_token_hash, token);
    assert_eq!(row.host_token_hash.len(), 64);

    assert_eq!(kinds(&app).await, vec!["event.changed"]);
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("event.create"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);

    // Read back: the connection, one event, one shift, and node().
    let id = event["id"].as_str().unwrap();
    let body = app
        .gql(
            "query($id: ID!) {
                events(first: 10) { edges { node { id } } pageInfo { hasNextPage } totalCount }
                past: events(filter: { timing: PAST }) { totalCount }
                event(id: $id) { title shifts { seatsTaken seatsLeft event { id } } }
                node(id: $id) { id ... on Event { title } }
            }",
            json!({ "id": id }),
        )
        .await;
    let d = data(&body);
    assert_eq!(d["events"]["edges"][0]["node"]["id"], json!(id));
    assert_eq!(d["events"]["totalCount"], 1);
    assert_eq!(d["past"]["totalCount"], 0, "its shift is tomorrow");
    assert_eq!(d["event"]["shifts"][0]["seatsLeft"], 10);
    assert_eq!(d["event"]["shifts"][0]["seatsTaken"], 0);
    assert_eq!(d["event"]["shifts"][0]["event"]["id"], json!(id));
    assert_eq!(d["node"]["title"], "Saturday canvass");
}

#[tokio::test]
async fn bad_event_input_is_refused_with_the_field_at_fault() {
    let app = TestApp::spawn().await;
    type Mutate = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutate, &str)> = vec![
        (
            Box::new(|i| i["timeZone"] = json!("Mars/Olympus_Mons")),
            "input.timeZone",
        ),
        (Box::new(|i| i["title"] = json!("  ")), "input.title"),
        (
            Box::new(|i| {
                let start = i["shifts"][0]["startsAt"].clone();
                i["shifts"][0]["endsAt"] = start;
            }),
            "input.shifts[0].endsAt",
        ),
        (
            Box::new(|i| i["shifts"][0]["capacity"] = json!(0)),
            "input.shifts[0].capacity",
        ),
        (
            Box::new(|i| i["virtualUrl"] = json!("javascript:alert(1)")),
            "input.virtualUrl",
        ),
        (
            Box::new(|i| i["reminderOffsetsMinutes"] = json!([60, -5])),
            "input.reminderOffsetsMinutes[1]",
        ),
    ];
    for (mutate, field) in cases {
        let mut input = event_input("PUBLIC", None);
        mutate(&mut input);
        let body = app.gql(CREATE_EVENT, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], json!(field));
    }
    assert_eq!(app.count(turnout_entity::events::Entity).await, 0);
}

#[tokio::test]
async fn events_and_shifts_are_updated_and_cancelled() {
    let app = TestApp::spawn().await;
    let (event, shift, _) = create_event(&app, event_input("PRIVATE", Some(5))).await;
    let body = app
        .gql(
            "mutation($id: ID!) { updateEvent(id: $id, input: {
                title: \"Sunday canvass\", location: null, reminderOffsetsMinutes: [30, 2880]
            }) { title location reminderOffsetsMinutes shifts { sequence } } }",
            json!({ "id": event }),
        )
        .await;
    let updated = &data(&body)["updateEvent"];
    assert_eq!(updated["title"], "Sunday canvass");
    assert_eq!(updated["location"], Value::Null);
    assert_eq!(updated["reminderOffsetsMinutes"], json!([2880, 30]));
    assert_eq!(
        updated["shifts"][0]["sequence"], 1,
        "a calendar-visible change bumps the sequence"
    );

    // New times bump the sequence; a new capacity alone does not.
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let body = app
        .gql(
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
                a: updateShift(id: $id, input: { startsAt: $s, endsAt: $e }) { sequence startsAt }
            }",
            json!({ "id": shift, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(data(&body)["a"]["sequence"], 2);
    let body = app
        .gql(
            "mutation($id: ID!) { updateShift(id: $id, input: { capacity: null }) { sequence capacity seatsLeft } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(data(&body)["updateShift"]["sequence"], 2);
    assert_eq!(data(&body)["updateShift"]["capacity"], Value::Null);

    // Ending before it starts is refused.
    let body = app
        .gql(
            "mutation($id: ID!, $e: DateTime!) { updateShift(id: $id, input: { endsAt: $e }) { sequence } }",
            json!({ "id": shift, "e": (start - chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");

    // Another shift, then cancel the shift and the event.
    let body = app
        .gql(
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
                addShift(eventId: $id, input: { startsAt: $s, endsAt: $e, capacity: 3 }) {
                    hostToken shift { id capacity }
                }
            }",
            json!({ "id": event, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(2)).to_rfc3339() }),
        )
        .await;
    assert_eq!(data(&body)["addShift"]["shift"]["capacity"], 3);
    let body = app
        .gql(
            "mutation($id: ID!) { cancelShift(id: $id) { cancelledAt sequence } }",
            json!({ "id": shift }),
        )
        .await;
    assert!(data(&body)["cancelShift"]["cancelledAt"].is_string());
    assert_eq!(data(&body)["cancelShift"]["sequence"], 3);
    let body = app
        .gql(
            "mutation($id: ID!) { cancelEvent(id: $id) { status shifts { cancelledAt } } }",
            json!({ "id": event }),
        )
        .await;
    let cancelled = &data(&body)["cancelEvent"];
    assert_eq!(cancelled["status"], "CANCELLED");
    assert!(
        cancelled["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["cancelledAt"].is_string())
    );
    let body = app
        .gql(
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
                addShift(eventId: $id, input: { startsAt: $s, endsAt: $e }) { hostToken }
            }",
            json!({ "id": event, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(2)).to_rfc3339() }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    let body = app
        .gql(
            "{ a: events(filter: { status: CANCELLED }) { edges { node { id } } }
               b: events(filter: { status: ACTIVE }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["a"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(data(&body)["b"]["edges"].as_array().unwrap().len(), 0);
    let changes = kinds(&app)
        .await
        .into_iter()
        .filter(|k| k == "event.changed")
        .count();
    assert_eq!(
        changes, 7,
        "create, update, 2 shift updates, add, cancel shift, cancel event"
    );
}

#[tokio::test]
async fn upcoming_and_past_events_are_told_apart() {
    let app = TestApp::spawn().await;
    let (upcoming, _, _) = create_event(&app, event_input("PRIVATE", None)).await;
    let mut past = event_input("PRIVATE", None);
    let start = chrono::Utc::now() - chrono::Duration::days(3);
    past["shifts"][0]["startsAt"] = json!(start.to_rfc3339());
    past["shifts"][0]["endsAt"] = json!((start + chrono::Duration::hours(2)).to_rfc3339());
    let (past, _, _) = create_event(&app, past).await;
    let body = app
        .gql(
            "{ u: events(filter: { timing: UPCOMING }) { edges { node { id } } }
               p: events(filter: { timing: PAST }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["u"]["edges"][0]["node"]["id"], json!(upcoming));
    assert_eq!(data(&body)["u"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(data(&body)["p"]["edges"][0]["node"]["id"], json!(past));
    assert_eq!(data(&body)["p"]["edges"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_public_reads_public_events_only() {
    let app = TestApp::spawn().await;
    let (public, public_shift, _) = create_event(&app, event_input("PUBLIC", Some(2))).await;
    let (private, private_shift, _) = create_event(&app, event_input("PRIVATE", Some(2))).await;
    let body = app
        .public(
            "query($id: ID!, $s: ID!) { event(id: $id) { title shifts { seatsLeft } } shift(id: $s) { startsAt } }",
            json!({ "id": public, "s": public_shift }),
        )
        .await;
    assert_eq!(data(&body)["event"]["title"], "Saturday canvass");
    assert_eq!(data(&body)["event"]["shifts"][0]["seatsLeft"], 2);
    for (query, vars) in [
        (
            "query($id: ID!) { event(id: $id) { title } }",
            json!({ "id": private }),
        ),
        (
            "query($id: ID!) { shift(id: $id) { startsAt } }",
            json!({ "id": private_shift }),
        ),
    ] {
        let body = app.public(query, vars).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    // No roster, no listing, no writes for the public.
    let body = app
        .public(
            "query($id: ID!) { event(id: $id) { shifts { rsvps { id } } } }",
            json!({ "id": public }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app
        .public("{ events { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let body = app
        .public(CREATE_EVENT, json!({ "i": event_input("PUBLIC", None) }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = TestApp::spawn().await;
    let (event, _, _) = create_event(&app, event_input("PRIVATE", None)).await;
    let reader = app.key_with(&["EVENTS_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&reader),
            "query($id: ID!) { event(id: $id) { title } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(data(&body)["event"]["title"], "Saturday canvass");
    let (_, body) = app
        .gql_as(
            Some(&reader),
            CREATE_EVENT,
            json!({ "i": event_input("PUBLIC", None) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let people_only = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&people_only),
            "query($id: ID!) { event(id: $id) { title } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // A roster's people need `people:read`; a person's RSVPs need `events:read`.
    let shift = app
        .gql(
            "query($id: ID!) { event(id: $id) { shifts { id } } }",
            json!({ "id": event }),
        )
        .await;
    let shift = data(&shift)["event"]["shifts"][0]["id"].clone();
    let ada = person(&app, "Ada", "ada@example.org").await;
    data(
        &app.gql(
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
            json!({ "s": shift, "p": ada }),
        )
        .await,
    );
    let (_, body) = app
        .gql_as(
            Some(&reader),
            "query($id: ID!) { shift(id: $id) { rsvps { status } } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(data(&body)["shift"]["rsvps"][0]["status"], "SIGNED_UP");
    let (_, body) = app
        .gql_as(
            Some(&reader),
            "query($id: ID!) { shift(id: $id) { rsvps { person { email } } } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&people_only),
            "query($id: ID!) { person(id: $id) { email rsvps { status } } }",
            json!({ "id": ada }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

#[tokio::test]
async fn another_organizations_events_are_not_found() {
    let app = TestApp::spawn().await;
    let (event, shift, _) = create_event(&app, event_input("PRIVATE", Some(3))).await;
    let ada = person(&app, "Ada", "ada@example.org").await;
    let body = app
        .gql(
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
            json!({ "s": shift, "p": ada }),
        )
        .await;
    let rsvp = data(&body)["createRsvp"]["id"].as_str().unwrap().to_owned();
    let (_, other) = app.second_org("other-volunteer").await;
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let (s, e) = (
        start.to_rfc3339(),
        (start + chrono::Duration::hours(1)).to_rfc3339(),
    );
    let attempts = [
        (
            "query($id: ID!) { event(id: $id) { title } }",
            json!({ "id": event }),
        ),
        (
            "query($id: ID!) { shift(id: $id) { startsAt } }",
            json!({ "id": shift }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": rsvp }),
        ),
        (
            "mutation($id: ID!) { updateEvent(id: $id, input: { title: \"x\" }) { title } }",
            json!({ "id": event }),
        ),
        (
            "mutation($id: ID!) { cancelEvent(id: $id) { status } }",
            json!({ "id": event }),
        ),
        (
            "mutation($id: ID!, $s: DateTime!, $e: DateTime!) { addShift(eventId: $id, input: { startsAt: $s, endsAt: $e }) { hostToken } }",
            json!({ "id": event, "s": s, "e": e }),
        ),
        (
            "mutation($id: ID!) { updateShift(id: $id, input: { capacity: 9 }) { capacity } }",
            json!({ "id": shift }),
        ),
        (
            "mutation($id: ID!) { cancelShift(id: $id) { cancelledAt } }",
            json!({ "id": shift }),
        ),
        (
            "mutation($id: ID!) { rotateShiftHostToken(id: $id) { hostToken } }",
            json!({ "id": shift }),
        ),
        (
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
            json!({ "s": shift, "p": ada }),
        ),
        (
            "mutation($id: ID!) { cancelRsvp(id: $id) { status } }",
            json!({ "id": rsvp }),
        ),
        (
            "mutation($id: ID!) { confirmRsvp(id: $id) { status } }",
            json!({ "id": rsvp }),
        ),
        (
            "mutation($id: ID!) { checkInRsvp(id: $id) { status } }",
            json!({ "id": rsvp }),
        ),
        (
            "mutation($id: ID!) { markRsvpNoShow(id: $id) { status } }",
            json!({ "id": rsvp }),
        ),
    ];
    for (query, vars) in attempts {
        let (status, body) = app.gql_as(Some(&other), query, vars).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{query}: {body}");
    }
    // And the other organization's list does not show it.
    let (_, body) = app
        .gql_as(Some(&other), "{ events { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(data(&body)["events"]["edges"], json!([]));
    // Nothing changed.
    let body = app
        .gql(
            "query($id: ID!) { event(id: $id) { title status shifts { capacity cancelledAt rsvps { status } } } }",
            json!({ "id": event }),
        )
        .await;
    let e = &data(&body)["event"];
    assert_eq!(e["title"], "Saturday canvass");
    assert_eq!(e["status"], "ACTIVE");
    assert_eq!(e["shifts"][0]["capacity"], 3);
    assert_eq!(e["shifts"][0]["rsvps"][0]["status"], "SIGNED_UP");
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_refused() {
    let app = TestApp::spawn().await;
    let missing =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Event, uuid::Uuid::now_v7());
    let body = app
        .gql(
            "mutation($id: ID!) { cancelEvent(id: $id) { status } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .gql(
            "mutation($id: ID!) { cancelShift(id: $id) { sequence } }",
            json!({ "id": missing }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("VALIDATION"),
        "an event ID is not a shift ID: {body}"
    );
    let body = app
        .gql(
            "mutation { cancelEvent(id: \"nope\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}
