//! A hostile client must not be able to make one request do unbounded work, learn the schema
//! anonymously, or read internals from an error.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::json;
use turnout_api::{ApiConfig, QueryLimits};

use crate::harness::{TestApp, data, error_code, unlimited};

async fn app_with(limits: QueryLimits) -> TestApp {
    TestApp::spawn_with(ApiConfig {
        query_limits: limits,
        ..unlimited()
    })
    .await
}

#[tokio::test]
async fn list_fields_cost_by_their_first_argument() {
    let app = app_with(QueryLimits {
        max_complexity: 200,
        ..QueryLimits::default()
    })
    .await;
    let query = |first: u32| {
        format!("{{ people(first: {first}) {{ edges {{ node {{ email tags {{ name }} }} }} }} }}")
    };
    data(&app.gql(&query(10), json!({})).await);
    let body = app.gql(&query(100), json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("too complex"), "{body}");
}

#[tokio::test]
async fn aliases_are_limited_including_through_fragments() {
    let app = app_with(QueryLimits {
        max_aliases: 10,
        ..QueryLimits::default()
    })
    .await;
    let aliases = |n: usize| {
        (0..n)
            .map(|i| format!("a{i}: __typename"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    data(&app.gql(&format!("{{ {} }}", aliases(10)), json!({})).await);
    let body = app.gql(&format!("{{ {} }}", aliases(11)), json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    // Four aliases in a fragment spread three times are twelve.
    let spread = format!(
        "fragment F on Query {{ {} }} query {{ ...F ...F ...F }}",
        aliases(4)
    );
    let body = app.gql(&spread, json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    // Anonymous callers are held to the same limit.
    let (_, body) = app
        .gql_as(None, &format!("{{ {} }}", aliases(11)), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

#[tokio::test]
async fn introspection_and_suggestions_are_for_authenticated_callers_only() {
    let app = TestApp::spawn().await;
    let introspect = "{ __schema { queryType { name } } }";
    let body = app.gql(introspect, json!({})).await;
    assert_eq!(data(&body)["__schema"]["queryType"]["name"], json!("Query"));
    let (_, body) = app.gql_as(None, introspect, json!({})).await;
    assert!(
        body["data"]["__schema"]["queryType"].is_null(),
        "anonymous introspection: {body}"
    );

    let typo = "{ peopel { edges { cursor } } }";
    let body = app.gql(typo, json!({})).await;
    assert!(body.to_string().contains("Did you mean"), "{body}");
    let (_, body) = app.gql_as(None, typo, json!({})).await;
    assert!(body["errors"].is_array(), "{body}");
    assert!(!body.to_string().contains("Did you mean"), "{body}");
}

#[tokio::test]
async fn a_request_that_runs_too_long_is_cut_off() {
    let app = TestApp::spawn_with(ApiConfig {
        request_timeout: Duration::from_millis(500),
        ..unlimited()
    })
    .await;
    // Hold the write lock on people, so a sign-up waits far longer than the timeout.
    let tx = app.db.begin_write().await.unwrap();
    if app.db.backend() == sea_orm::DatabaseBackend::Postgres {
        tx.execute_unprepared("LOCK TABLE people IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let started = std::time::Instant::now();
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "mutation { signUp(form: \"volunteer\", input: { firstName: \"A\", email: \"a@example.org\" }) { submissionId } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 408);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off at the timeout, not the lock's"
    );
    tx.rollback().await.unwrap();
    assert_eq!(
        app.count(turnout_entity::people::Entity).await,
        0,
        "the cut-off sign-up wrote nothing"
    );
}

#[tokio::test]
async fn internal_errors_say_nothing_of_the_database() {
    let app = TestApp::spawn().await;
    data(
        &app.public(
            "mutation { signUp(form: \"volunteer\", input: { firstName: \"Ada\", email: \"ada@example.org\" }) { submissionId } }",
            json!({}),
        )
        .await,
    );
    // Break the database under the server: the tags of a person can no longer be read.
    app.db
        .conn()
        .execute_unprepared("DROP TABLE taggings")
        .await
        .unwrap();
    let body = app
        .gql(
            "{ people { edges { node { email tags { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert_says_nothing_of_the_database(&body, "taggings");
}

/// Neither the table nor anything of SQL or the driver appears in `body`.
fn assert_says_nothing_of_the_database(body: &serde_json::Value, table: &str) {
    let text = body.to_string().to_lowercase();
    for leak in [
        table,
        "sql",
        "select",
        "no such table",
        "relation",
        "database",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {body}");
    }
}

/// The authentication path (API-key lookup) of every entry point maps a broken database like
/// any other internal error: 500 and `INTERNAL`, never a 401 carrying the driver's text.
#[tokio::test]
async fn a_database_failure_while_authenticating_says_nothing_of_the_database() {
    let app = TestApp::spawn().await;
    app.db
        .conn()
        .execute_unprepared("ALTER TABLE api_keys RENAME TO api_keys_gone")
        .await
        .unwrap();
    let (status, body) = app
        .gql_as(Some(&app.key), "{ me { organizationId } }", json!({}))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert_says_nothing_of_the_database(&body, "api_keys");

    let resp = app
        .client
        .get(format!("{}/export/people.csv", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert_says_nothing_of_the_database(&body, "api_keys");

    // An unknown key is still what it was: 401 UNAUTHENTICATED, when the lookup can run.
    let app = TestApp::spawn().await;
    let (status, body) = app
        .gql_as(Some("tn_nope_nope"), "{ me { organizationId } }", json!({}))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}
