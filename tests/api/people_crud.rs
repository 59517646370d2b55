//! Staff create, update, archive and restore people; filters compose; sorts page correctly.

use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};

pub const CREATE: &str = "mutation($input: PersonInput!) {
    createPerson(input: $input) { id firstName lastName email phone ladderStage assessment
        smsConsent { granted source } archivedAt }
}";
const UPDATE: &str = "mutation($id: ID!, $input: PersonInput!) {
    updatePerson(id: $id, input: $input) { id firstName lastName email phone zip ladderStage assessment }
}";

/// Creates a person and returns their global ID.
pub async fn create(app: &TestApp, input: Value) -> String {
    let body = app.gql(CREATE, json!({ "input": input })).await;
    data(&body)["createPerson"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[tokio::test]
async fn people_crud_create_update_archive_and_unarchive() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            CREATE,
            json!({ "input": { "firstName": " Ada ", "lastName": "Lovelace", "email": "ADA@Example.org",
                "phone": "(202) 555-0143", "smsConsent": true, "ladderStage": "Volunteer", "assessment": 3 } }),
        )
        .await;
    let ada = &data(&body)["createPerson"];
    assert_eq!(ada["firstName"], json!("Ada"));
    assert_eq!(ada["email"], json!("ada@example.org"));
    assert_eq!(ada["phone"], json!("+12025550143"));
    assert_eq!(ada["ladderStage"], json!("volunteer"));
    assert_eq!(
        ada["smsConsent"],
        json!({ "granted": true, "source": "staff" })
    );
    let id = ada["id"].as_str().unwrap().to_owned();

    // Partial update: only what is given changes; null clears.
    let body = app
        .gql(
            UPDATE,
            json!({ "id": id, "input": { "zip": "20001", "lastName": null } }),
        )
        .await;
    let p = &data(&body)["updatePerson"];
    assert_eq!(p["firstName"], json!("Ada"));
    assert_eq!(p["lastName"], Value::Null);
    assert_eq!(p["zip"], json!("20001"));
    assert_eq!(p["email"], json!("ada@example.org"));

    // Validation names the field; uniqueness is a CONFLICT.
    let body = app
        .gql(UPDATE, json!({ "id": id, "input": { "email": "nope" } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("input.email")
    );
    let body = app
        .gql(UPDATE, json!({ "id": id, "input": { "phone": "12" } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(UPDATE, json!({ "id": id, "input": { "assessment": 6 } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(CREATE, json!({ "input": { "firstName": "No contact" } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(CREATE, json!({ "input": { "email": "ada@example.org" } }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let other = create(&app, json!({ "email": "bob@example.org" })).await;
    let body = app
        .gql(
            UPDATE,
            json!({ "id": other, "input": { "phone": "+1 202 555 0143" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    // Clearing the only contact is refused.
    let body = app
        .gql(UPDATE, json!({ "id": other, "input": { "email": null } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Archive: out of the list, still readable by id; unarchive brings them back.
    let count = "{ people { totalCount edges { node { id } } } }";
    assert_eq!(
        data(&app.gql(count, json!({})).await)["people"]["totalCount"],
        json!(2)
    );
    let body = app
        .gql(
            "mutation($id: ID!) { archivePerson(id: $id) { archivedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(data(&body)["archivePerson"]["archivedAt"].is_string());
    assert_eq!(
        data(&app.gql(count, json!({})).await)["people"]["totalCount"],
        json!(1)
    );
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { archivedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(data(&body)["person"]["archivedAt"].is_string());
    let body = app
        .gql(
            "mutation($id: ID!) { unarchivePerson(id: $id) { archivedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["unarchivePerson"]["archivedAt"], Value::Null);
    assert_eq!(
        data(&app.gql(count, json!({})).await)["people"]["totalCount"],
        json!(2)
    );

    // The audit log has the changes.
    let body = app
        .gql(
            "{ auditLog(first: 50) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<String> = data(&body)["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap().to_owned())
        .collect();
    for a in [
        "person.create",
        "person.update",
        "person.archive",
        "person.unarchive",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn people_crud_unknown_and_foreign_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let id = create(&app, json!({ "email": "ada@example.org" })).await;
    let (_, other_key) = app.second_org("other-form").await;
    for (query, vars) in [
        (UPDATE, json!({ "id": id, "input": { "firstName": "X" } })),
        (
            "mutation($id: ID!) { archivePerson(id: $id) { id } }",
            json!({ "id": id }),
        ),
    ] {
        let (_, body) = app.gql_as(Some(&other_key), query, vars).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    // A well-formed ID of nobody.
    let nobody = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("Person:{}", uuid::Uuid::now_v7()))
    };
    let body = app
        .gql(
            UPDATE,
            json!({ "id": nobody, "input": { "firstName": "X" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    // Referring to another organization's person is NOT_FOUND too.
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            CREATE,
            json!({ "input": { "email": "x@example.org", "referredById": id } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    // Read-only keys cannot write.
    let viewer = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&viewer),
            CREATE,
            json!({ "input": { "email": "v@example.org" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

fn emails(body: &Value) -> Vec<String> {
    data(body)["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap().to_owned())
        .collect()
}

const LIST: &str = "query($filter: PeopleFilter, $sort: PeopleSort, $first: Int, $after: String) {
    people(filter: $filter, sort: $sort, first: $first, after: $after) {
        totalCount edges { node { email } } pageInfo { hasNextPage endCursor }
    }
}";

#[tokio::test]
async fn people_filters_compose_and_sorts_page_with_cursors() {
    let app = TestApp::spawn().await;
    let a = create(
        &app,
        json!({ "email": "a@example.org", "lastName": "Young", "zip": "10001", "preferredLanguage": "es-MX",
            "ladderStage": "leader", "assessment": 5, "phone": "+12025550101", "smsConsent": true }),
    )
    .await;
    create(
        &app,
        json!({ "email": "b@example.org", "lastName": "Adams", "zip": "10001", "preferredLanguage": "en",
            "ladderStage": "volunteer", "assessment": 2, "referredById": a }),
    )
    .await;
    create(
        &app,
        json!({ "email": "c@example.org", "lastName": "Moreno", "zip": "20002", "preferredLanguage": "es",
            "ladderStage": "volunteer", "assessment": 4, "referredById": a }),
    )
    .await;
    create(&app, json!({ "email": "d@example.org" })).await;

    let q = |filter: Value| {
        let app = &app;
        async move { app.gql(LIST, json!({ "filter": filter })).await }
    };
    assert_eq!(
        emails(&q(json!({ "zips": ["10001"] })).await),
        ["a@example.org", "b@example.org"]
    );
    assert_eq!(
        emails(&q(json!({ "languages": ["es"] })).await),
        ["a@example.org", "c@example.org"]
    );
    assert_eq!(
        emails(&q(json!({ "ladderStages": ["volunteer"], "assessmentMin": 3 })).await),
        ["c@example.org"]
    );
    assert_eq!(
        emails(&q(json!({ "assessmentMax": 2 })).await),
        ["b@example.org"]
    );
    assert_eq!(
        emails(&q(json!({ "smsConsent": true })).await),
        ["a@example.org"]
    );
    assert_eq!(
        emails(&q(json!({ "referredById": a, "zips": ["20002"] })).await),
        ["c@example.org"]
    );
    let body = q(json!({ "referredById": a })).await;
    assert_eq!(data(&body)["people"]["totalCount"], json!(2));
    let body = q(json!({ "createdAfter": "2999-01-01T00:00:00Z" })).await;
    assert_eq!(data(&body)["people"]["totalCount"], json!(0));
    let body = q(json!({ "assessmentMin": 0 })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Sort by last name (no last name first), page by 2 with cursors.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .gql(
                LIST,
                json!({ "sort": "LAST_NAME_ASC", "first": 2, "after": after }),
            )
            .await;
        seen.extend(emails(&body));
        let info = &data(&body)["people"]["pageInfo"];
        if info["hasNextPage"] == json!(false) {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        [
            "d@example.org",
            "b@example.org",
            "c@example.org",
            "a@example.org"
        ]
    );
    // Newest first, by pages of one.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let body = app
            .gql(
                LIST,
                json!({ "sort": "CREATED_AT_DESC", "first": 1, "after": after }),
            )
            .await;
        seen.extend(emails(&body));
        let info = &data(&body)["people"]["pageInfo"];
        if info["hasNextPage"] == json!(false) {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        [
            "d@example.org",
            "c@example.org",
            "b@example.org",
            "a@example.org"
        ]
    );
    // A cursor of one sort is refused with another.
    let body = app
        .gql(LIST, json!({ "sort": "LAST_NAME_ASC", "first": 1 }))
        .await;
    let cursor = data(&body)["people"]["pageInfo"]["endCursor"].clone();
    let body = app.gql(LIST, json!({ "after": cursor })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
}
