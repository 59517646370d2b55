//! Custom fields: definitions, values checked against them, restricted fields hidden from
//! callers without `people:restricted`.

use serde_json::json;

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

const DEFINE: &str = "mutation($input: CreateCustomFieldInput!) {
    createCustomField(input: $input) { id key label type options restricted }
}";
const SET: &str = "mutation($id: ID!, $values: [CustomFieldValueInput!]!) {
    setCustomFieldValues(personId: $id, values: $values) { customFields { key type value } }
}";
const READ: &str = "query($id: ID!) { person(id: $id) { customFields { key value } } }";

async fn define(app: &TestApp, input: serde_json::Value) {
    data(&app.gql(DEFINE, json!({ "input": input })).await);
}

#[tokio::test]
async fn custom_fields_values_are_checked_against_their_definition() {
    let app = TestApp::spawn().await;
    define(&app, json!({ "key": "shirt_size", "label": "Shirt", "type": "SINGLE_SELECT", "options": ["S", "M", "L"] })).await;
    define(&app, json!({ "key": "skills", "label": "Skills", "type": "MULTI_SELECT", "options": ["phones", "doors", "data"] })).await;
    define(
        &app,
        json!({ "key": "hours", "label": "Hours", "type": "NUMBER" }),
    )
    .await;
    define(
        &app,
        json!({ "key": "driver", "label": "Can drive", "type": "BOOLEAN" }),
    )
    .await;
    define(
        &app,
        json!({ "key": "joined", "label": "Joined", "type": "DATE" }),
    )
    .await;
    define(
        &app,
        json!({ "key": "bio", "label": "Bio", "type": "TEXT" }),
    )
    .await;
    let id = create(&app, json!({ "email": "ada@example.org" })).await;

    let body = app
        .gql(
            SET,
            json!({ "id": id, "values": [
                { "key": "shirt_size", "value": "M" },
                { "key": "skills", "value": ["doors", "phones", "doors"] },
                { "key": "hours", "value": 12.5 },
                { "key": "driver", "value": true },
                { "key": "joined", "value": "2026-03-01" },
                { "key": "bio", "value": "  Organizer  " },
            ] }),
        )
        .await;
    let values = data(&body)["setCustomFieldValues"]["customFields"].clone();
    assert_eq!(
        values,
        json!([
            { "key": "bio", "type": "TEXT", "value": "Organizer" },
            { "key": "driver", "type": "BOOLEAN", "value": true },
            { "key": "hours", "type": "NUMBER", "value": 12.5 },
            { "key": "joined", "type": "DATE", "value": "2026-03-01" },
            { "key": "shirt_size", "type": "SINGLE_SELECT", "value": "M" },
            { "key": "skills", "type": "MULTI_SELECT", "value": ["doors", "phones"] },
        ])
    );

    for (key, value) in [
        ("shirt_size", json!("XL")),
        ("skills", json!(["juggling"])),
        ("hours", json!("lots")),
        ("driver", json!("maybe")),
        ("joined", json!("2026-02-30")),
        ("bio", json!(42)),
    ] {
        let body = app
            .gql(
                SET,
                json!({ "id": id, "values": [{ "key": key, "value": value }] }),
            )
            .await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{key}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            json!(format!("values.{key}"))
        );
        assert!(body["errors"][0]["message"].as_str().unwrap().contains(key));
    }
    // One bad value refuses the whole set.
    let body = app
        .gql(
            SET,
            json!({ "id": id, "values": [{ "key": "hours", "value": 1 }, { "key": "driver", "value": "x" }] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app.gql(READ, json!({ "id": id })).await;
    assert!(
        data(&body)["person"]["customFields"]
            .as_array()
            .unwrap()
            .contains(&json!({ "key": "hours", "value": 12.5 }))
    );
    // Unknown key; null clears.
    let body = app
        .gql(
            SET,
            json!({ "id": id, "values": [{ "key": "nope", "value": 1 }] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(
            SET,
            json!({ "id": id, "values": [{ "key": "bio", "value": null }] }),
        )
        .await;
    assert_eq!(
        data(&body)["setCustomFieldValues"]["customFields"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // Definitions are checked too.
    for input in [
        json!({ "key": "Bad Key", "label": "x", "type": "TEXT" }),
        json!({ "key": "choice", "label": "x", "type": "SINGLE_SELECT" }),
        json!({ "key": "t", "label": "x", "type": "TEXT", "options": ["a"] }),
    ] {
        let body = app.gql(DEFINE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    }
    let body = app
        .gql(
            DEFINE,
            json!({ "input": { "key": "bio", "label": "Again", "type": "TEXT" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    // Another organization cannot set values on this person.
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            SET,
            json!({ "id": id, "values": [{ "key": "hours", "value": 1 }] }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("VALIDATION"),
        "their org has no such field: {body}"
    );
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            DEFINE,
            json!({ "input": { "key": "hours", "label": "H", "type": "NUMBER" } }),
        )
        .await;
    data(&body);
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            SET,
            json!({ "id": id, "values": [{ "key": "hours", "value": 1 }] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn custom_fields_restricted_ones_need_the_restricted_scope() {
    let app = TestApp::spawn().await;
    define(&app, json!({ "key": "union_member", "label": "Union member", "type": "BOOLEAN", "restricted": true })).await;
    define(
        &app,
        json!({ "key": "hours", "label": "Hours", "type": "NUMBER" }),
    )
    .await;
    let id = create(&app, json!({ "email": "ada@example.org" })).await;
    data(
        &app.gql(
            SET,
            json!({ "id": id, "values": [{ "key": "union_member", "value": true }, { "key": "hours", "value": 3 }] }),
        )
        .await,
    );
    let plain = app.key_with(&["PEOPLE_READ", "PEOPLE_WRITE"]).await;
    let trusted = app
        .key_with(&["PEOPLE_READ", "PEOPLE_WRITE", "PEOPLE_RESTRICTED"])
        .await;

    // Without the scope: omitted on read, not an error.
    let (_, body) = app.gql_as(Some(&plain), READ, json!({ "id": id })).await;
    assert_eq!(
        data(&body)["person"]["customFields"],
        json!([{ "key": "hours", "value": 3 }])
    );
    let (_, body) = app
        .gql_as(Some(&plain), "{ customFields { key } }", json!({}))
        .await;
    assert_eq!(data(&body)["customFields"], json!([{ "key": "hours" }]));
    let (_, body) = app
        .gql_as(
            Some(&plain),
            "{ people { edges { node { customFields { key } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["people"]["edges"][0]["node"]["customFields"],
        json!([{ "key": "hours" }])
    );
    // … and FORBIDDEN on write, including defining one.
    let (_, body) = app
        .gql_as(
            Some(&plain),
            SET,
            json!({ "id": id, "values": [{ "key": "union_member", "value": false }] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&plain),
            DEFINE,
            json!({ "input": { "key": "secret", "label": "S", "type": "TEXT", "restricted": true } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    // With it: seen and writable.
    let (_, body) = app.gql_as(Some(&trusted), READ, json!({ "id": id })).await;
    assert_eq!(
        data(&body)["person"]["customFields"],
        json!([{ "key": "hours", "value": 3 }, { "key": "union_member", "value": true }])
    );
    let (_, body) = app
        .gql_as(
            Some(&trusted),
            SET,
            json!({ "id": id, "values": [{ "key": "union_member", "value": false }] }),
        )
        .await;
    data(&body);
}
