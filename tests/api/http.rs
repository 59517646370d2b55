use serde_json::{Value, json};
use turnout_api::{ApiConfig, QueryLimits};

use crate::harness::{TestApp, error_code, unlimited};

#[tokio::test]
async fn health_readiness_and_graphiql_are_served() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let page = get("/graphql").await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn only_single_json_requests_are_executed() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql", app.base);
    let mutation = r#"{"query":"mutation { signUp(form: \"volunteer\", input: {firstName: \"A\", email: \"a@example.org\"}) { submissionId } }"}"#;

    // A cross-site form post (text/plain or form-encoded) is refused before execution.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let resp = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(mutation)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);
        assert_eq!(
            error_code(&resp.json::<Value>().await.unwrap()),
            Some("VALIDATION")
        );
    }
    // A batch is refused whole.
    let batch = format!("[{mutation},{mutation}]");
    let resp = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(batch)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // GET never executes a mutation.
    let resp = app
        .client
        .get(format!("{url}?query=mutation%7BsignUp%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(app.count(turnout_entity::people::Entity).await, 0);
}

#[tokio::test]
async fn oversized_bodies_and_deep_queries_are_refused() {
    let limits = QueryLimits {
        max_depth: 4,
        ..QueryLimits::default()
    };
    let app = TestApp::spawn_with(ApiConfig {
        max_body_bytes: 4 * 1024,
        query_limits: limits,
        ..unlimited()
    })
    .await;
    let big = json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(8 * 1024) } });
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let refusal: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        refusal["errors"][0]["extensions"]["code"],
        "PAYLOAD_TOO_LARGE"
    );
    let message = refusal["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("4096 bytes") && message.contains("TURNOUT_MAX_BODY_BYTES"),
        "the 413 names the limit and the setting that raises it: {refusal}"
    );

    let body = app
        .gql("{ people { edges { node { email } } } }", json!({}))
        .await;
    assert!(
        body["errors"].is_null(),
        "depth 4 is within the limit: {body}"
    );
    let body = app
        .gql("{ people { edges { node { tags { name } } } } }", json!({}))
        .await;
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(
        message.contains("nested too deep"),
        "depth 5 is refused: {body}"
    );
}
