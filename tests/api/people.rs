use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};

const SIGN_UP: &str = "mutation($form: String!, $input: SignUpInput!) {
    signUp(form: $form, input: $input) { submissionId }
}";

const PEOPLE: &str = "query($first: Int, $after: String, $filter: PeopleFilter) {
    people(first: $first, after: $after, filter: $filter) {
        edges { cursor node { id firstName email tags { name } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
    }
}";

async fn seed(app: &TestApp, n: usize) {
    for i in 0..n {
        let input =
            json!({ "firstName": format!("Person{i:02}"), "email": format!("p{i}@example.org") });
        data(
            &app.public(SIGN_UP, json!({ "form": "volunteer", "input": input }))
                .await,
        );
    }
}

fn names(body: &Value) -> Vec<String> {
    data(body)["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["firstName"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn people_page_through_with_cursors_in_a_stable_order() {
    let app = TestApp::spawn().await;
    seed(&app, 25).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let body = app
            .gql(PEOPLE, json!({ "first": 10, "after": after }))
            .await;
        let page = &data(&body)["people"];
        seen.extend(names(&body));
        pages += 1;
        assert_eq!(page["pageInfo"]["hasPreviousPage"], json!(after.is_some()));
        if page["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("Person{i:02}")).collect();
    assert_eq!(seen, expected, "every person once, in creation order");
}

#[tokio::test]
async fn people_filter_by_tag_and_text() {
    let app = TestApp::spawn().await;
    seed(&app, 3).await;
    data(
        &app.gql(
            "mutation { createForm(input: { slug: \"canvass\", title: \"Canvass\", fields: [{key: EMAIL, required: true}], defaultTags: [\"canvasser\"] }) { slug } }",
            json!({}),
        )
        .await,
    );
    data(
        &app.public(
            SIGN_UP,
            json!({ "form": "canvass", "input": { "email": "zed_100%@example.org" } }),
        )
        .await,
    );
    let body = app
        .gql(PEOPLE, json!({ "filter": { "tagsAny": ["canvasser"] } }))
        .await;
    let edges = data(&body)["people"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["email"], json!("zed_100%@example.org"));
    assert_eq!(edges[0]["node"]["tags"], json!([{ "name": "canvasser" }]));

    let body = app
        .gql(PEOPLE, json!({ "filter": { "search": "PERSON01" } }))
        .await;
    assert_eq!(names(&body), vec!["Person01"]);
    // LIKE wildcards in the search are literal.
    let body = app
        .gql(PEOPLE, json!({ "filter": { "search": "_100%" } }))
        .await;
    assert_eq!(data(&body)["people"]["edges"].as_array().unwrap().len(), 1);
    let body = app
        .gql(PEOPLE, json!({ "filter": { "search": "%" } }))
        .await;
    assert_eq!(data(&body)["people"]["edges"].as_array().unwrap().len(), 1);
    let body = app
        .gql(
            PEOPLE,
            json!({ "filter": { "tagsAny": ["volunteer"], "search": "person02" } }),
        )
        .await;
    assert_eq!(names(&body), vec!["Person02"]);
}

#[tokio::test]
async fn bad_page_arguments_are_validation_errors() {
    let app = TestApp::spawn().await;
    for vars in [
        json!({ "first": 101 }),
        json!({ "first": -1 }),
        json!({ "after": "not a cursor" }),
    ] {
        let body = app.gql(PEOPLE, vars.clone()).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{vars} → {body}");
    }
}

#[tokio::test]
async fn person_and_node_resolve_global_ids_within_the_organization_only() {
    let app = TestApp::spawn().await;
    seed(&app, 1).await;
    let body = app.gql(PEOPLE, json!({})).await;
    let id = data(&body)["people"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { id firstName } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["person"]["firstName"], json!("Person00"));
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { id ... on Person { email } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(&body)["node"],
        json!({ "id": id, "email": "p0@example.org" })
    );

    // Another organization's admin sees nothing of it, by either path.
    let (_, other_key) = app.second_org("other-form").await;
    for query in [
        "query($id: ID!) { person(id: $id) { id email } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ] {
        let (_, body) = app
            .gql_as(Some(&other_key), query, json!({ "id": id }))
            .await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
        assert!(!body.to_string().contains("p0@example.org"));
    }
    let (_, body) = app.gql_as(Some(&other_key), PEOPLE, json!({})).await;
    assert_eq!(data(&body)["people"]["edges"], json!([]));

    // A tag's ID is not a person's ID; garbage is not an ID.
    let body = app
        .gql(
            "{ people(first: 1) { edges { node { tags { id } } } } }",
            json!({}),
        )
        .await;
    let tag_id = data(&body)["people"]["edges"][0]["node"]["tags"][0]["id"].clone();
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": tag_id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "garbage" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { id ... on Tag { name } } }",
            json!({ "id": tag_id }),
        )
        .await;
    assert_eq!(data(&body)["node"]["name"], json!("volunteer"));
}
