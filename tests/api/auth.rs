use serde_json::json;

use crate::harness::{TestApp, data, error_code};

const PEOPLE: &str = "{ people(first: 5) { edges { node { email } } } }";

#[tokio::test]
async fn reads_need_a_valid_key_with_the_right_scope() {
    let app = TestApp::spawn().await;
    let (_, body) = app.gql_as(None, PEOPLE, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    for bad in ["tn_xxxxxxxxxxxx_nope", "garbage", &format!("{}x", app.key)] {
        let (status, body) = app.gql_as(Some(bad), PEOPLE, json!({})).await;
        assert_eq!(status, 401);
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }

    let forms_key = app.key_with(&["FORMS_WRITE"]).await;
    let (status, body) = app.gql_as(Some(&forms_key), PEOPLE, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // …and it cannot mint itself a stronger key.
    let (_, body) = app
        .gql_as(
            Some(&forms_key),
            "mutation { createApiKey(name: \"x\", scopes: [ADMIN]) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app.gql_as(Some(&reader), PEOPLE, json!({})).await;
    data(&body);
}
