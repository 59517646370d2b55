use serde_json::json;
use turnout_entity::forms;

use crate::harness::{TestApp, data, error_code};

const CREATE: &str = "mutation($input: CreateFormInput!) { createForm(input: $input) { id slug title fields { key required } defaultTags } }";

#[tokio::test]
async fn forms_are_created_validated_and_readable_in_public() {
    let app = TestApp::spawn().await;
    let input = json!({
        "slug": "phonebank", "title": "Phone bank",
        "fields": [{ "key": "FIRST_NAME", "required": true }, { "key": "PHONE", "required": true }],
        "defaultTags": ["phonebanker", "phonebanker"], "consentText": "Texts OK"
    });
    let body = app.gql(CREATE, json!({ "input": input })).await;
    assert_eq!(
        data(&body)["createForm"]["defaultTags"],
        json!(["phonebanker"])
    );

    let public = app
        .public(
            "{ form(slug: \"phonebank\") { title consentText fields { key required } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&public)["form"]["title"], json!("Phone bank"));
    let public = app
        .public("{ form(slug: \"phonebank\") { defaultTags } }", json!({}))
        .await;
    assert_eq!(
        error_code(&public),
        Some("UNAUTHENTICATED"),
        "tags are staff-only: {public}"
    );

    let before = app.count(forms::Entity).await;
    let body = app.gql(CREATE, json!({ "input": input })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    for (patch, field) in [
        (json!({ "slug": "Bad Slug" }), "input.slug"),
        (json!({ "title": "  " }), "input.title"),
        (json!({ "fields": [] }), "input.fields"),
        (
            json!({ "fields": [{ "key": "ZIP", "required": true }] }),
            "input.fields",
        ),
        (
            json!({ "slug": "other", "fields": [{ "key": "EMAIL", "required": true }, { "key": "EMAIL", "required": false }] }),
            "input.fields[1]",
        ),
    ] {
        let mut bad = input.clone();
        for (k, v) in patch.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let body = app.gql(CREATE, json!({ "input": bad })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{patch} → {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            json!(field),
            "{body}"
        );
    }
    assert_eq!(
        app.count(forms::Entity).await,
        before,
        "nothing written by refused input"
    );

    let (_, body) = app.gql_as(None, CREATE, json!({ "input": input })).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}
