use serde_json::json;

use crate::harness::{TestApp, data, error_code};

const LOG: &str = "query($first: Int, $after: String, $filter: AuditLogFilter) {
    auditLog(first: $first, after: $after, filter: $filter) {
        edges { node { action objectType objectId actor { kind id } changes clientIp occurredAt } }
        pageInfo { hasNextPage endCursor }
        totalCount
    }
}";

#[tokio::test]
async fn changes_are_recorded_with_actor_fields_and_origin_but_no_values() {
    let app = TestApp::spawn().await;
    data(
        &app.public(
            "mutation { signUp(form: \"volunteer\", input: { firstName: \"Ada\", email: \"ada@example.org\", phone: \"+12025550143\", smsConsent: true }) { submissionId } }",
            json!({}),
        )
        .await,
    );
    data(&app.gql("mutation { createForm(input: { slug: \"canvass\", title: \"Canvass\", fields: [{key: EMAIL, required: true}] }) { id } }", json!({})).await);

    let body = app.gql(LOG, json!({})).await;
    let edges = data(&body)["auditLog"]["edges"].as_array().unwrap().clone();
    let actions: Vec<_> = edges
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["form.create", "form_submission.create", "person.create"],
        "newest first"
    );

    let form = &edges[0]["node"];
    assert_eq!(form["actor"]["kind"], json!("API_KEY"));
    assert!(form["actor"]["id"].is_string());
    assert_eq!(form["clientIp"], json!("127.0.0.1"));

    let person = &edges[2]["node"];
    assert_eq!(person["actor"], json!({ "kind": "PUBLIC", "id": null }));
    assert_eq!(person["objectType"], json!("person"));
    assert_eq!(
        person["changes"]["fields"],
        json!(["first_name", "email", "phone", "sms_consent"])
    );
    assert!(
        !body.to_string().contains("ada@example.org"),
        "no personal values in the log"
    );

    let body = app
        .gql(LOG, json!({ "filter": { "action": "person.create" } }))
        .await;
    assert_eq!(
        data(&body)["auditLog"]["edges"].as_array().unwrap().len(),
        1
    );
    let actor = form["actor"]["id"].clone();
    let body = app
        .gql(LOG, json!({ "filter": { "actorId": actor } }))
        .await;
    assert_eq!(
        data(&body)["auditLog"]["edges"].as_array().unwrap().len(),
        1
    );
    assert_eq!(data(&body)["auditLog"]["totalCount"], 1);

    let body = app.gql(LOG, json!({ "first": 2 })).await;
    let page = &data(&body)["auditLog"];
    assert_eq!(page["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(page["totalCount"], 3, "all pages: {page}");
    let body = app
        .gql(
            LOG,
            json!({ "first": 2, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    let rest: Vec<_> = data(&body)["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].clone())
        .collect();
    assert_eq!(rest, vec![json!("person.create")]);
}

#[tokio::test]
async fn only_admins_of_the_organization_read_its_audit_log() {
    let app = TestApp::spawn().await;
    data(&app.public("mutation { signUp(form: \"volunteer\", input: { firstName: \"A\", email: \"a@example.org\" }) { submissionId } }", json!({})).await);
    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app.gql_as(Some(&reader), LOG, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, other_admin) = app.second_org("other-form").await;
    let (_, body) = app.gql_as(Some(&other_admin), LOG, json!({})).await;
    assert_eq!(data(&body)["auditLog"]["edges"], json!([]));
}

#[tokio::test]
async fn key_management_is_audited_without_the_secret() {
    let app = TestApp::spawn().await;
    let token = app.key_with(&["PEOPLE_READ"]).await;
    let body = app.gql("{ apiKeys { id name } }", json!({})).await;
    let key = data(&body)["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == json!("test key"))
        .unwrap()
        .clone();
    data(
        &app.gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            json!({ "id": key["id"] }),
        )
        .await,
    );
    let body = app
        .gql(LOG, json!({ "filter": { "objectType": "api_key" } }))
        .await;
    let edges = data(&body)["auditLog"]["edges"].as_array().unwrap().clone();
    let actions: Vec<_> = edges.iter().map(|e| e["node"]["action"].clone()).collect();
    assert_eq!(
        actions,
        vec![json!("api_key.revoke"), json!("api_key.create")]
    );
    assert_eq!(
        edges[1]["node"]["changes"]["fields"],
        json!(["name", "scopes", "expires_at"])
    );
    let secret = token.splitn(3, '_').nth(2).unwrap();
    assert!(
        !body.to_string().contains(secret),
        "the key's secret is not in the log"
    );
}
