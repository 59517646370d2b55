//! A page of people with their tags costs the same number of SQL statements whatever its size:
//! the tags of a page are loaded in one batch (DataLoader), not one query per person.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use turnout_api::QueryLimits;
use turnout_api::graphql::{RequestAuth, build_schemas, request_loaders};
use turnout_domain::auth;
use turnout_domain::db::Db;

use crate::harness::{TestApp, data};

#[tokio::test]
async fn a_page_of_people_with_tags_costs_constant_statements() {
    let app = TestApp::spawn().await;
    for i in 0..60 {
        let input = json!({ "firstName": format!("P{i}"), "email": format!("p{i}@example.org") });
        data(&app.public("mutation($i: SignUpInput!) { signUp(form: \"volunteer\", input: $i) { submissionId } }", json!({ "i": input })).await);
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

    let mut counts = Vec::new();
    for first in [1, 10, 50] {
        let loaders = request_loaders(&db, &principal).unwrap();
        let query = format!(
            "{{ people(first: {first}) {{ edges {{ node {{ email tags {{ name }} }} }} }} }}"
        );
        statements.store(0, Ordering::SeqCst);
        let request = async_graphql::Request::new(query)
            .data(loaders)
            .data(RequestAuth(Some(principal.clone())));
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let value = response.data.into_json().unwrap();
        let edges = value["people"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first);
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["tags"][0]["name"] == json!("volunteer"))
        );
        counts.push(statements.load(Ordering::SeqCst));
    }
    assert_eq!(
        counts,
        vec![2, 2, 2],
        "people, then all their tags in one query"
    );
}

#[tokio::test]
async fn a_page_of_people_with_notes_tasks_fields_and_history_costs_constant_statements() {
    let app = TestApp::spawn().await;
    data(&app.gql(
        "mutation { createCustomField(input: { key: \"hours\", label: \"Hours\", type: NUMBER }) { id } }",
        json!({}),
    ).await);
    for i in 0..30 {
        let body = app
            .gql(
                "mutation($i: PersonInput!) { createPerson(input: $i) { id } }",
                json!({ "i": { "email": format!("p{i}@example.org"), "ladderStage": "volunteer", "assessment": 3 } }),
            )
            .await;
        let id = data(&body)["createPerson"]["id"].clone();
        data(
            &app.gql(
                "mutation($id: ID!) {
                addNote(input: { personId: $id, kind: CALL, body: \"hi\" }) { id }
                createTask(input: { personId: $id, title: \"call\" }) { id }
                setCustomFieldValues(personId: $id, values: [{ key: \"hours\", value: 2 }]) { id }
            }",
                json!({ "id": id }),
            )
            .await,
        );
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

    let mut counts = Vec::new();
    for first in [1, 10, 30] {
        let loaders = request_loaders(&db, &principal).unwrap();
        let query = format!(
            "{{ people(first: {first}) {{ edges {{ node {{ email tags {{ name }} notes {{ body }} tasks {{ title }}
                customFields {{ key value }} ladderHistory {{ field to }} }} }} }} }}"
        );
        statements.store(0, Ordering::SeqCst);
        let request = async_graphql::Request::new(query)
            .data(loaders)
            .data(RequestAuth(Some(principal.clone())));
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let value = response.data.into_json().unwrap();
        let edges = value["people"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first);
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["notes"][0]["body"] == json!("hi")
                    && e["node"]["tasks"][0]["title"] == json!("call")
                    && e["node"]["customFields"][0]["value"] == json!(2)
                    && e["node"]["ladderHistory"].as_array().unwrap().len() == 2)
        );
        counts.push(statements.load(Ordering::SeqCst));
    }
    assert_eq!(
        counts,
        vec![6, 6, 6],
        "people, then tags, notes, tasks, custom fields and ladder history in one query each"
    );
}
