//! The deployment operator over GraphQL: only the operator key reaches the operator fields
//! (and it reaches nothing else), it creates and lists organizations without seeing their
//! people, and a suspension stops the organization's keys, sessions, sign-ups and pages until
//! it is resumed, while its neighbours go on working.

use serde_json::{Value, json};
use turnout_api::ApiConfig;
use turnout_domain::organization::operator::OperatorKey;

use crate::events::{create_event, event_input};
use crate::harness::{TestApp, data, error_code, unlimited};

const OPERATOR_KEY: &str = "op-test-key-0123456789abcdefghijklmnop";

const LIST: &str =
    "{ operatorOrganizations { id name slug suspendedAt suspendedReason memberCount } }";
const CREATE: &str = "mutation($i: OperatorCreateOrganizationInput!) {
    operatorCreateOrganization(input: $i) {
        organization { id name slug memberCount suspendedAt }
        ownerInvitation { email token }
        adminApiKey
    } }";
const SUSPEND: &str = "mutation($id: ID!, $r: String) {
    operatorSuspendOrganization(id: $id, reason: $r) { id suspendedAt suspendedReason } }";
const RESUME: &str =
    "mutation($id: ID!) { operatorResumeOrganization(id: $id) { id suspendedAt } }";
const SIGN_UP: &str = "mutation($input: SignUpInput!) {
    signUp(form: \"volunteer\", input: $input) { submissionId } }";

async fn app() -> TestApp {
    TestApp::spawn_with(ApiConfig {
        operator_key: Some(OperatorKey::parse(OPERATOR_KEY).unwrap()),
        ..unlimited()
    })
    .await
}

async fn as_operator(app: &TestApp, query: &str, variables: Value) -> Value {
    let (status, body) = app.gql_as(Some(OPERATOR_KEY), query, variables).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn page_status(app: &TestApp, path: &str) -> (u16, String) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[test]
fn a_short_operator_key_is_refused() {
    let err = OperatorKey::parse("short").unwrap_err();
    assert!(err.contains("32"), "{err}");
}

#[tokio::test]
async fn only_the_operator_key_reaches_the_operator_fields_and_it_reaches_nothing_else() {
    let app = app().await;
    // An organization's admin key and an anonymous caller are refused.
    let (_, body) = app.gql_as(Some(&app.key), LIST, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app.public(LIST, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // A near miss of the key is just an invalid credential.
    let (status, _) = app
        .gql_as(Some(&format!("{OPERATOR_KEY}x")), LIST, json!({}))
        .await;
    assert_eq!(status, 401);

    // The operator reads no organization's data.
    let body = as_operator(&app, "{ people(first: 5) { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    let body = as_operator(&app, LIST, json!({})).await;
    let orgs = data(&body)["operatorOrganizations"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], "Test Campaign");
    assert_eq!(orgs[0]["memberCount"], 1);
    assert!(orgs[0]["suspendedAt"].is_null());
}

#[tokio::test]
async fn the_operator_creates_an_organization_whose_owner_and_key_work() {
    let app = app().await;
    let before = app.count(turnout_entity::organizations::Entity).await;
    let body = as_operator(
        &app,
        CREATE,
        json!({ "i": { "name": "Local 7", "ownerEmail": "not an email" } }),
    )
    .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "ownerEmail");
    assert_eq!(
        app.count(turnout_entity::organizations::Entity).await,
        before
    );

    let body = as_operator(
        &app,
        CREATE,
        json!({ "i": { "name": "Local 7", "ownerEmail": "steward@local7.org", "adminKey": true } }),
    )
    .await;
    let made = &data(&body)["operatorCreateOrganization"];
    assert_eq!(made["organization"]["name"], "Local 7");
    assert_eq!(made["organization"]["memberCount"], 1);
    assert_eq!(made["ownerInvitation"]["email"], "steward@local7.org");
    let key = made["adminApiKey"].as_str().unwrap();
    let (_, body) = app
        .gql_as(Some(key), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(data(&body)["organization"]["name"], "Local 7");
    // Its owner accepts the invitation and is signed in to it.
    let body = app
        .public(
            "mutation($t: String!) { acceptInvitation(token: $t, password: \"correct horse battery\", name: \"Sam\") { accessToken } }",
            json!({ "t": made["ownerInvitation"]["token"] }),
        )
        .await;
    let session = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap();
    let (_, body) = app
        .gql_as(Some(session), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(data(&body)["organization"]["name"], "Local 7");

    // The owner's invitation is emailed too (queued for the workers).
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let emailed = turnout_entity::messages::Entity::find()
        .filter(turnout_entity::messages::Column::ToAddress.eq("steward@local7.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the invitation email");
    assert_eq!(emailed.purpose.as_deref(), Some("account"));
    assert!(emailed.body.contains("/invite/inv_"), "{}", emailed.body);
    let body = as_operator(&app, LIST, json!({})).await;
    assert_eq!(
        data(&body)["operatorOrganizations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_suspended_organization_stops_until_it_is_resumed_and_its_neighbours_go_on() {
    let app = app().await;
    let org = app.org_id.to_string();
    // A neighbour, with a key and a session of its own.
    let body = as_operator(
        &app,
        CREATE,
        json!({ "i": { "name": "Neighbours", "ownerEmail": "n@example.org", "adminKey": true } }),
    )
    .await;
    let neighbour_key = data(&body)["operatorCreateOrganization"]["adminApiKey"]
        .as_str()
        .unwrap()
        .to_owned();
    // A session in the organization to be suspended: its owner invites a member who accepts.
    let body = app
        .gql(
            "mutation { inviteUser(email: \"organizer@example.org\", role: ORGANIZER) { token } }",
            json!({}),
        )
        .await;
    let body = app
        .public(
            "mutation($t: String!) { acceptInvitation(token: $t, password: \"correct horse battery\", name: \"Org\") { accessToken } }",
            json!({ "t": data(&body)["inviteUser"]["token"] }),
        )
        .await;
    let session = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (event_id, _, _) = create_event(&app, event_input("PUBLIC", Some(10))).await;

    // Bad ids first: nothing changes.
    let body = as_operator(&app, SUSPEND, json!({ "id": "nope" })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = as_operator(
        &app,
        SUSPEND,
        json!({ "id": uuid::Uuid::now_v7().to_string() }),
    )
    .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    let body = as_operator(
        &app,
        SUSPEND,
        json!({ "id": org, "r": "unpaid since March" }),
    )
    .await;
    let suspended = &data(&body)["operatorSuspendOrganization"];
    assert!(suspended["suspendedAt"].is_string());
    assert_eq!(suspended["suspendedReason"], "unpaid since March");

    // Its key and its session are refused with SUSPENDED, before any GraphQL runs.
    for credential in [&app.key, &session] {
        let (status, body) = app
            .gql_as(Some(credential), "{ organization { name } }", json!({}))
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(error_code(&body), Some("SUSPENDED"), "{body}");
    }
    // Its public side: sign-ups, the form, the events, and the pages say so.
    let body = app
        .public(
            SIGN_UP,
            json!({ "input": { "firstName": "Ana", "email": "ana@example.org" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("SUSPENDED"), "{body}");
    let body = app
        .public("{ form(slug: \"volunteer\") { title } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("SUSPENDED"), "{body}");
    let body = app
        .public(
            "query($id: ID!) { event(id: $id) { title } }",
            json!({ "id": event_id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let (status, html) = page_status(&app, "/f/volunteer").await;
    assert_eq!(status, 503);
    assert!(html.contains("These pages are paused"), "{html}");
    let (status, html) = page_status(&app, "/f/volunteer?lang=es").await;
    assert_eq!(status, 503);
    assert!(html.contains("en pausa"), "{html}");
    assert_eq!(page_status(&app, "/events").await.0, 503);
    assert_eq!(app.count(turnout_entity::people::Entity).await, 0);

    // The neighbour is untouched.
    let (status, body) = app
        .gql_as(Some(&neighbour_key), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(data(&body)["organization"]["name"], "Neighbours");

    // Resumed, everything works again, and both changes are in the organization's audit log.
    let body = as_operator(&app, RESUME, json!({ "id": org })).await;
    assert!(data(&body)["operatorResumeOrganization"]["suspendedAt"].is_null());
    let (status, _) = app
        .gql_as(Some(&session), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(status, 200);
    let body = app
        .public(
            SIGN_UP,
            json!({ "input": { "firstName": "Ana", "email": "ana@example.org" } }),
        )
        .await;
    data(&body);
    assert_eq!(page_status(&app, "/f/volunteer").await.0, 200);
    let body = app
        .gql(
            "{ auditLog(first: 100) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = data(&body)["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"organization.suspend"), "{actions:?}");
    assert!(actions.contains(&"organization.resume"), "{actions:?}");
}

/// The operator disables a user on the whole deployment: their session and refresh token stop
/// at once and they cannot sign in; enabled again, they sign in with the role they had. An
/// unknown address is NOT_FOUND, and a member's own key cannot do it.
#[tokio::test]
async fn a_user_the_operator_disables_is_signed_out_everywhere_until_enabled() {
    let app = app().await;
    let body = as_operator(
        &app,
        CREATE,
        json!({ "i": { "name": "Local 9", "ownerEmail": "sam@local9.org" } }),
    )
    .await;
    let token = data(&body)["operatorCreateOrganization"]["ownerInvitation"]["token"].clone();
    let body = app
        .public(
            "mutation($t: String!) { acceptInvitation(token: $t, password: \"correct horse battery\", name: \"Sam\") { accessToken refreshToken } }",
            json!({ "t": token }),
        )
        .await;
    let session = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = data(&body)["acceptInvitation"]["refreshToken"].clone();
    let read = "{ organization { name } }";
    let (_, body) = app.gql_as(Some(&session), read, json!({})).await;
    assert_eq!(data(&body)["organization"]["name"], "Local 9");

    let disable = "mutation($e: String!) { operatorDisableUser(email: $e) { email disabledAt organizationCount } }";
    // Not for a member's key, nor for an address nobody has.
    let body = app.gql(disable, json!({ "e": "sam@local9.org" })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = as_operator(&app, disable, json!({ "e": "nobody@local9.org" })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    let body = as_operator(&app, disable, json!({ "e": " Sam@Local9.org " })).await;
    let user = &data(&body)["operatorDisableUser"];
    assert_eq!(user["email"], "sam@local9.org");
    assert_eq!(user["organizationCount"], 1);
    assert!(user["disabledAt"].is_string());
    let (_, body) = app.gql_as(Some(&session), read, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let refresh_query = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }";
    let body = app.public(refresh_query, json!({ "t": refresh })).await;
    assert!(body["errors"].is_array(), "{body}");
    let login = "mutation { login(email: \"sam@local9.org\", password: \"correct horse battery\") { accessToken } }";
    let body = app.public(login, json!({})).await;
    assert!(body["errors"].is_array(), "{body}");

    let body = as_operator(
        &app,
        "mutation($e: String!) { operatorEnableUser(email: $e) { disabledAt } }",
        json!({ "e": "sam@local9.org" }),
    )
    .await;
    assert!(data(&body)["operatorEnableUser"]["disabledAt"].is_null());
    let body = app.public(login, json!({})).await;
    let again = data(&body)["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app.gql_as(Some(&again), read, json!({})).await;
    assert_eq!(data(&body)["organization"]["name"], "Local 9");
}
