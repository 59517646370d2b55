//! Organization A's credentials see nothing of organization B: not by id, not by global node
//! id, not by filter, not through a nested relation.

use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};

const B_EMAIL: &str = "secret-member@union-b.example.org";
const B_TAG: &str = "b-steward";

/// Organization B with one person carrying a tag, and B's ids.
async fn org_b(app: &TestApp) -> (String, Value, Value, Value) {
    let (_, b_key) = app.second_org("join-b").await;
    let (_, body) = app
        .gql_as(
            Some(&b_key),
            "mutation($tags: [String!]!) { createForm(input: { slug: \"stewards-b\", title: \"Stewards\", fields: [{key: EMAIL, required: true}], defaultTags: $tags }) { id } }",
            json!({ "tags": [B_TAG] }),
        )
        .await;
    let form_id = data(&body)["createForm"]["id"].clone();
    data(&app.public("mutation($e: String!) { signUp(form: \"stewards-b\", input: { email: $e }) { submissionId } }", json!({ "e": B_EMAIL })).await);
    let (_, body) = app
        .gql_as(
            Some(&b_key),
            "{ people { edges { node { id tags { id } } } } }",
            json!({}),
        )
        .await;
    let node = data(&body)["people"]["edges"][0]["node"].clone();
    (
        b_key,
        node["id"].clone(),
        node["tags"][0]["id"].clone(),
        form_id,
    )
}

fn assert_nothing_of_b(body: &Value) {
    let text = body.to_string();
    assert!(
        !text.contains(B_EMAIL) && !text.contains(B_TAG),
        "B's data leaked: {body}"
    );
}

#[tokio::test]
async fn another_organizations_objects_are_invisible_by_every_path() {
    let app = TestApp::spawn().await;
    let (_b_key, person, tag, form) = org_b(&app).await;
    let reader = app.key_with(&["PEOPLE_READ"]).await;

    for key in [app.key.clone(), reader] {
        let by_id = [
            ("query($id: ID!) { person(id: $id) { email } }", &person),
            (
                "query($id: ID!) { node(id: $id) { id ... on Person { email } } }",
                &person,
            ),
            (
                "query($id: ID!) { node(id: $id) { id ... on Tag { name } } }",
                &tag,
            ),
            (
                "query($id: ID!) { node(id: $id) { id ... on Form { slug } } }",
                &form,
            ),
        ];
        for (query, id) in by_id {
            let (_, body) = app.gql_as(Some(&key), query, json!({ "id": id })).await;
            assert_eq!(error_code(&body), Some("NOT_FOUND"), "{query}: {body}");
            assert_nothing_of_b(&body);
        }
        let by_filter = [
            json!({ "tagsAny": [B_TAG] }),
            json!({ "search": "secret-member" }),
        ];
        for filter in by_filter {
            let (_, body) = app
                .gql_as(Some(&key), "query($f: PeopleFilter) { people(filter: $f) { edges { node { email tags { name } } } } }", json!({ "f": filter }))
                .await;
            assert_eq!(data(&body)["people"]["edges"], json!([]), "{filter}");
        }
        let (_, body) = app
            .gql_as(Some(&key), "{ forms { slug } }", json!({}))
            .await;
        assert!(!body.to_string().contains("stewards-b"), "{body}");
    }

    // Nested: A's own people never carry B's tags, and B's form shows A no staff-only fields.
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "{ people { edges { node { tags { name } } } } }",
            json!({}),
        )
        .await;
    assert_nothing_of_b(&body);
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "{ form(slug: \"stewards-b\") { title defaultTags } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_nothing_of_b(&body);
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "{ auditLog { edges { node { objectId } } } }",
            json!({}),
        )
        .await;
    let gid = async_graphql::ID(person.as_str().unwrap().to_owned());
    let (_, b_person) = turnout_api::ids::decode_global_id("id", &gid).unwrap();
    let text = body.to_string();
    assert!(
        !text.contains(&b_person.to_string()),
        "A's log holds none of B's changes: {text}"
    );
    data(&body);
}
