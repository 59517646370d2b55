//! An event roster (event → shifts → RSVPs → person) and a people page with their RSVPs
//! (person → RSVPs → shift → event) cost a constant number of SQL statements whatever their
//! size: every relation is one batched query through the request's DataLoader.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use turnout_api::QueryLimits;
use turnout_api::graphql::{RequestAuth, build_schemas, event_loader, request_loaders};
use turnout_domain::auth;
use turnout_domain::db::Db;

use crate::events::{CREATE_EVENT, event_input, person};
use crate::harness::{TestApp, data};

#[tokio::test]
async fn rosters_and_people_with_rsvps_cost_constant_statements() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for i in 0..10 {
        people.push(person(&app, &format!("P{i}"), &format!("p{i}@example.org")).await);
    }
    // Events of 1×1, 2×5 and 4×10 (shifts × RSVPs per shift).
    let mut events = Vec::new();
    for (shifts, per_shift) in [(1usize, 1usize), (2, 5), (4, 10)] {
        let mut input = event_input("PRIVATE", None);
        let one = input["shifts"][0].clone();
        input["shifts"] = json!(vec![one; shifts]);
        let body = app.gql(CREATE_EVENT, json!({ "i": input })).await;
        let created = &data(&body)["createEvent"];
        events.push(created["event"]["id"].as_str().unwrap().to_owned());
        for link in created["hostLinks"].as_array().unwrap() {
            for p in &people[..per_shift] {
                data(&app
                    .gql(
                        "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
                        json!({ "s": link["shift"]["id"], "p": p }),
                    )
                    .await);
            }
        }
    }

    let statements = Arc::new(AtomicUsize::new(0));
    let mut conn = app.db.conn().clone();
    let counter = statements.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let db = Db::from_connection(conn);
    let schema =
        build_schemas(db.clone(), QueryLimits::default(), Default::default()).authenticated;
    let principal = auth::authenticate(&db, &app.key).await.unwrap();
    let run = |query: String| {
        let schema = schema.clone();
        let db = db.clone();
        let principal = principal.clone();
        let statements = statements.clone();
        async move {
            let mut request = async_graphql::Request::new(query)
                .data(event_loader(&db, Some(&principal)))
                .data(RequestAuth(Some(principal.clone())));
            if let Some(tags) = request_loaders(&db, &principal) {
                request = request.data(tags);
            }
            statements.store(0, Ordering::SeqCst);
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            (
                response.data.into_json().unwrap(),
                statements.load(Ordering::SeqCst),
            )
        }
    };

    let mut roster_counts = Vec::new();
    for (event, expected_rsvps) in events.iter().zip([1, 10, 40]) {
        let (value, count) = run(format!(
            "{{ event(id: \"{event}\") {{ title shifts {{ startsAt rsvps {{ status person {{ firstName }} }} }} }} }}"
        ))
        .await;
        let rsvps: usize = value["event"]["shifts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["rsvps"].as_array().unwrap().len())
            .sum();
        assert_eq!(rsvps, expected_rsvps);
        assert!(value["event"]["shifts"][0]["rsvps"][0]["person"]["firstName"].is_string());
        roster_counts.push(count);
    }
    assert_eq!(
        roster_counts,
        vec![4, 4, 4],
        "event, its shifts, their RSVPs, their people"
    );

    let mut page_counts = Vec::new();
    for first in [1, 5, 10] {
        let (value, count) = run(format!(
            "{{ people(first: {first}) {{ edges {{ node {{ firstName referralCount rsvps {{ status shift {{ startsAt event {{ title }} }} }} }} }} }} }}"
        ))
        .await;
        let edges = value["people"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first);
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["rsvps"][0]["shift"]["event"]["title"] == "Saturday canvass")
        );
        page_counts.push(count);
    }
    assert_eq!(
        page_counts,
        vec![5, 5, 5],
        "people, referral counts, their RSVPs, the shifts, the events"
    );
}
