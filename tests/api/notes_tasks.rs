//! Notes, tasks (assigned, completed, reopened, `myTasks`), point person and the ladder history.

use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

const PASSWORD: &str = "correct horse battery staple";

/// Invites `email` as an organizer and accepts; returns (user id, access token).
async fn organizer(app: &TestApp, email: &str) -> (String, String) {
    let body = app
        .gql(
            "mutation($e: String!) { inviteUser(email: $e, role: ORGANIZER) { token } }",
            json!({ "e": email }),
        )
        .await;
    let token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .public(
            "mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p, name: \"Org\") { accessToken } }",
            json!({ "t": token, "p": PASSWORD }),
        )
        .await;
    let access = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app
        .gql_as(Some(&access), "{ me { user { id } } }", json!({}))
        .await;
    let id = data(&body)["me"]["user"]["id"].as_str().unwrap().to_owned();
    (id, access)
}

#[tokio::test]
async fn notes_tasks_my_tasks_point_person_and_ladder_history() {
    let app = TestApp::spawn().await;
    let ada = create(
        &app,
        json!({ "email": "ada@example.org", "ladderStage": "supporter" }),
    )
    .await;
    let (sam, sam_token) = organizer(&app, "sam@example.org").await;

    // A note, written by Sam (a user): the author is recorded.
    let (_, body) = app
        .gql_as(
            Some(&sam_token),
            "mutation($i: AddNoteInput!) { addNote(input: $i) { kind outcome body authorUserId personId } }",
            json!({ "i": { "personId": ada, "kind": "CALL", "outcome": "committed", "body": "Will come Saturday" } }),
        )
        .await;
    let note = &data(&body)["addNote"];
    assert_eq!(note["kind"], json!("CALL"));
    assert_eq!(note["authorUserId"], json!(sam));
    assert_eq!(note["personId"], json!(ada));
    let body = app
        .gql(
            "mutation($i: AddNoteInput!) { addNote(input: $i) { id } }",
            json!({ "i": { "personId": ada, "kind": "TEXT", "body": "   " } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Tasks: assigned to Sam, seen in Sam's myTasks, completed and reopened.
    let create_task = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id status assigneeUserId dueAt } }";
    let body = app
        .gql(
            create_task,
            json!({ "i": { "title": "Call Ada back", "personId": ada, "assigneeUserId": sam, "dueAt": "2030-01-01T15:00:00Z" } }),
        )
        .await;
    let task = data(&body)["createTask"].clone();
    assert_eq!(task["status"], json!("OPEN"));
    let task_id = task["id"].as_str().unwrap().to_owned();
    data(
        &app.gql(create_task, json!({ "i": { "title": "Unassigned" } }))
            .await,
    );
    let my = "{ myTasks { edges { node { title status } } } }";
    let (_, body) = app.gql_as(Some(&sam_token), my, json!({})).await;
    assert_eq!(
        data(&body)["myTasks"]["edges"],
        json!([{ "node": { "title": "Call Ada back", "status": "OPEN" } }])
    );
    let (_, body) = app
        .gql_as(
            Some(&sam_token),
            "{ open: myTasks(first: 1) { totalCount } all: myTasks(includeDone: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["open"]["totalCount"], 1, "{body}");
    assert_eq!(data(&body)["all"]["totalCount"], 1, "{body}");
    let body = app.gql(my, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "an API key has no tasks"
    );
    let (_, body) = app
        .gql_as(
            Some(&sam_token),
            "mutation($id: ID!) { completeTask(id: $id) { status completedAt } }",
            json!({ "id": task_id }),
        )
        .await;
    assert_eq!(data(&body)["completeTask"]["status"], json!("DONE"));
    assert!(data(&body)["completeTask"]["completedAt"].is_string());
    let (_, body) = app.gql_as(Some(&sam_token), my, json!({})).await;
    assert_eq!(data(&body)["myTasks"]["edges"], json!([]));
    // Done, it leaves the open count but not the whole one.
    let (_, body) = app
        .gql_as(
            Some(&sam_token),
            "{ open: myTasks { totalCount } all: myTasks(includeDone: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["open"]["totalCount"], 0, "{body}");
    assert_eq!(data(&body)["all"]["totalCount"], 1, "{body}");
    let body = app
        .gql(
            "mutation($id: ID!) { reopenTask(id: $id) { status completedAt } }",
            json!({ "id": task_id }),
        )
        .await;
    assert_eq!(
        data(&body)["reopenTask"],
        json!({ "status": "OPEN", "completedAt": null })
    );
    // Tasks are nodes, within the organization only.
    let node = "query($id: ID!) { node(id: $id) { id ... on Task { title } } }";
    let body = app.gql(node, json!({ "id": task_id })).await;
    assert_eq!(data(&body)["node"]["title"], json!("Call Ada back"));
    // Unknown user, unknown task, another organization's task.
    let body = app
        .gql(
            create_task,
            json!({ "i": { "title": "x", "assigneeUserId": uuid::Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other_key), node, json!({ "id": task_id }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({ "id": task_id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($i: AddNoteInput!) { addNote(input: $i) { id } }",
            json!({ "i": { "personId": ada, "kind": "OTHER", "body": "x" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    // Point person, ladder stage and assessment, with history.
    let (_, body) = app
        .gql_as(
            Some(&sam_token),
            "mutation($id: ID!, $i: PersonInput!) { updatePerson(id: $id, input: $i) { pointPersonUserId ladderStage assessment } }",
            json!({ "id": ada, "i": { "pointPersonUserId": sam, "ladderStage": "leader", "assessment": 4 } }),
        )
        .await;
    assert_eq!(
        data(&body)["updatePerson"],
        json!({ "pointPersonUserId": sam, "ladderStage": "leader", "assessment": 4 })
    );
    let body = app
        .gql(
            "mutation($id: ID!, $i: PersonInput!) { updatePerson(id: $id, input: $i) { id } }",
            json!({ "id": ada, "i": { "pointPersonUserId": uuid::Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) {
                ladderHistory { field from to changedByUserId changedByApiKeyId }
                notes { kind body } tasks { title status } } }",
            json!({ "id": ada }),
        )
        .await;
    let p = &data(&body)["person"];
    let history: Vec<Value> = p["ladderHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            json!([
                h["field"],
                h["from"],
                h["to"],
                h["changedByUserId"].is_string()
            ])
        })
        .collect();
    assert_eq!(
        history,
        vec![
            json!(["LADDER_STAGE", null, "supporter", false]),
            json!(["LADDER_STAGE", "supporter", "leader", true]),
            json!(["ASSESSMENT", null, "4", true]),
        ]
    );
    assert_eq!(
        p["notes"],
        json!([{ "kind": "CALL", "body": "Will come Saturday" }])
    );
    assert_eq!(
        p["tasks"],
        json!([{ "title": "Call Ada back", "status": "OPEN" }])
    );
}

/// A due task emails its assignee once; one rescheduled reminds again at its new time; a task
/// done, not yet due, or due long ago sends nothing.
#[tokio::test]
async fn a_task_that_falls_due_reminds_its_assignee_once() {
    use turnout_domain::task_reminders::remind_due;
    let smtp = crate::support::smtp::SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(crate::pipeline::fast(), smtp.messaging()).await;
    let body = app.gql("{ members { userId email } }", json!({})).await;
    let owner = data(&body)["members"][0]["userId"].clone();
    let ada = crate::people_crud::create(
        &app,
        json!({ "firstName": "Ada", "email": "ada@example.org" }),
    )
    .await;
    let now = chrono::Utc::now();
    let create = "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }";
    let task = |title: &str, due: chrono::DateTime<chrono::Utc>| json!({ "i": { "title": title, "personId": ada, "assigneeUserId": owner, "dueAt": due.to_rfc3339() } });
    let call = data(
        &app.gql(
            create,
            task("Call Ada back", now - chrono::Duration::minutes(1)),
        )
        .await,
    )["createTask"]["id"]
        .clone();
    data(
        &app.gql(create, task("Old", now - chrono::Duration::days(3)))
            .await,
    );
    data(
        &app.gql(create, task("Tomorrow", now + chrono::Duration::days(1)))
            .await,
    );
    let done = data(
        &app.gql(create, task("Done", now - chrono::Duration::minutes(5)))
            .await,
    )["createTask"]["id"]
        .clone();
    data(
        &app.gql(
            "mutation($id: ID!) { completeTask(id: $id) { id } }",
            json!({ "id": done }),
        )
        .await,
    );

    assert_eq!(remind_due(&app.db, now).await.unwrap(), 1);
    assert_eq!(remind_due(&app.db, now).await.unwrap(), 0, "once");
    let mail =
        crate::pipeline::eventually("the reminder", || async { smtp.mails().into_iter().next() })
            .await;
    assert_eq!(mail.to, ["owner@example.org"]);
    assert!(
        mail.data.contains("Subject: Task due: Call Ada back"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("about Ada"), "{}", mail.data);

    // Rescheduled to the afternoon, it reminds again then (and not before).
    let later = now + chrono::Duration::hours(4);
    data(
        &app.gql(
            "mutation($id: ID!, $d: DateTime) { rescheduleTask(id: $id, dueAt: $d) { id } }",
            json!({ "id": call, "d": later.to_rfc3339() }),
        )
        .await,
    );
    assert_eq!(remind_due(&app.db, now).await.unwrap(), 0);
    assert_eq!(remind_due(&app.db, later).await.unwrap(), 1);
    // Tomorrow's comes tomorrow.
    assert_eq!(
        remind_due(&app.db, now + chrono::Duration::days(1))
            .await
            .unwrap(),
        1
    );
}
