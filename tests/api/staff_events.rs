//! Issue 12, item 2: what organizers do is an event too, recorded in the same transaction as
//! the change, so automations, webhooks and the live feed see it. Driven through the real
//! server; the events are read back from the outbox.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use turnout_entity::domain_events;

use crate::harness::{TestApp, data};

/// The (kind, payload) of every event recorded so far, oldest first.
async fn events(app: &TestApp) -> Vec<(String, Value)> {
    domain_events::Entity::find()
        .filter(domain_events::Column::OrganizationId.eq(app.org_id))
        .order_by_asc(domain_events::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.payload))
        .collect()
}

fn kinds(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(k, _)| k.as_str()).collect()
}

#[tokio::test]
async fn staff_changes_to_people_tags_notes_and_tasks_are_events() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            r#"mutation { createPerson(input: { firstName: "Ada", email: "ada@example.org", ladderStage: "supporter", assessment: 3 }) { id } }"#,
            json!({}),
        )
        .await;
    let person = data(&body)["createPerson"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = events(&app).await;
    assert_eq!(
        kinds(&created),
        [
            "person.ladder_stage_changed",
            "person.assessed",
            "person.created"
        ],
        "{created:?}"
    );
    let (_, payload) = &created[2];
    let fields: Vec<&str> = payload["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"first_name"),
        "{payload}"
    );
    assert!(
        !payload.to_string().contains("ada@example.org"),
        "values never travel: {payload}"
    );
    let person_id = payload["person_id"].clone();

    let run = |query: &'static str| {
        let (app, person) = (&app, person.clone());
        async move { data(&app.gql(query, json!({ "id": person })).await).clone() }
    };
    run(r#"mutation($id: ID!) { updatePerson(id: $id, input: { phone: "+1 202 555 0143" }) { id } }"#).await;
    // Tagging twice announces the tag once; removing announces it once.
    run(r#"mutation($id: ID!) { addTags(personId: $id, tags: ["host", "driver"]) { id } }"#).await;
    run(r#"mutation($id: ID!) { addTags(personId: $id, tags: ["host"]) { id } }"#).await;
    run(
        r#"mutation($id: ID!) { removeTags(personId: $id, tags: ["driver", "never-had"]) { id } }"#,
    )
    .await;
    run(r#"mutation($id: ID!) { addNote(input: { personId: $id, kind: CALL, body: "Will host" }) { id } }"#).await;
    let task = run(
        r#"mutation($id: ID!) { createTask(input: { title: "Call back", personId: $id }) { id } }"#,
    )
    .await;
    let task_id = task["createTask"]["id"].as_str().unwrap().to_owned();
    data(
        &app.gql(
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({ "id": task_id }),
        )
        .await,
    );
    run(r#"mutation($id: ID!) { archivePerson(id: $id) { id } }"#).await;
    let body = app
        .gql(
            r#"mutation { tagPeople(filter: { search: "nobody-matches" }, tags: ["canvass"]) { count } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["tagPeople"]["count"], 0);

    let all = events(&app).await;
    assert_eq!(
        kinds(&all[3..]),
        [
            "person.updated",
            "person.tag_added",
            "person.tag_added",
            "person.tag_removed",
            "note.added",
            "task.created",
            "task.completed",
            "person.archived",
            "people.tagged_in_bulk",
        ],
        "{all:?}"
    );
    assert_eq!(all[3].1["fields"], json!(["phone"]));
    assert_eq!(all[6].1["tag"], "driver");
    for (kind, payload) in &all[3..11] {
        assert_eq!(&payload["person_id"], &person_id, "{kind}: {payload}");
    }
    assert_eq!(all[11].1["added"], 0);
}
