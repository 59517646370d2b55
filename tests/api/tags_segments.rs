//! Tags on one person and in bulk by filter; saved segments used as filters.

use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

fn tag_names(body: &Value, root: &str) -> Vec<String> {
    data(body)[root]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tags_segments_tag_one_person_and_many_by_filter() {
    let app = TestApp::spawn().await;
    let ada = create(&app, json!({ "email": "ada@example.org", "zip": "10001" })).await;
    for i in 0..5 {
        create(&app, json!({ "email": format!("p{i}@example.org"), "zip": if i < 3 { "10001" } else { "20002" } })).await;
    }
    let body = app
        .gql(
            "mutation($id: ID!) { addTags(personId: $id, tags: [\"captain\", \" precinct 4 \", \"captain\"]) { tags { name } } }",
            json!({ "id": ada }),
        )
        .await;
    assert_eq!(tag_names(&body, "addTags"), ["captain", "precinct 4"]);
    let body = app
        .gql(
            "mutation($id: ID!) { removeTags(personId: $id, tags: [\"captain\"]) { tags { name } } }",
            json!({ "id": ada }),
        )
        .await;
    assert_eq!(tag_names(&body, "removeTags"), ["precinct 4"]);
    let body = app
        .gql(
            "mutation($id: ID!) { addTags(personId: $id, tags: []) { id } }",
            json!({ "id": ada }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Bulk: everyone in 10001 (ada + 3) gets two tags.
    let tag =
        "mutation($f: PeopleFilter!, $t: [String!]!) { tagPeople(filter: $f, tags: $t) { count } }";
    let body = app
        .gql(
            tag,
            json!({ "f": { "zips": ["10001"] }, "t": ["canvass", "precinct 4"] }),
        )
        .await;
    assert_eq!(
        data(&body)["tagPeople"]["count"],
        json!(4 + 3),
        "ada had precinct 4 already"
    );
    let body = app
        .gql(tag, json!({ "f": { "zips": ["10001"] }, "t": ["canvass"] }))
        .await;
    assert_eq!(data(&body)["tagPeople"]["count"], json!(0), "idempotent");

    // A saved segment: tagged canvass, but not precinct 4 → nobody; tagged canvass → 4.
    let body = app
        .gql(
            "mutation($f: PeopleFilter!) { createSegment(name: \"Canvassers\", filter: $f) { id name } }",
            json!({ "f": { "tagsAll": ["canvass", "precinct 4"] } }),
        )
        .await;
    let segment = data(&body)["createSegment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let count = "query($f: PeopleFilter) { people(filter: $f) { totalCount } }";
    let total = |body: &Value| data(body)["people"]["totalCount"].clone();
    assert_eq!(
        total(
            &app.gql(count, json!({ "f": { "segmentId": segment } }))
                .await
        ),
        json!(4)
    );
    assert_eq!(
        total(
            &app.gql(count, json!({ "f": { "tagsNone": ["canvass"] } }))
                .await
        ),
        json!(2)
    );
    assert_eq!(
        total(
            &app.gql(
                count,
                json!({ "f": { "segmentId": segment, "search": "ada" } })
            )
            .await
        ),
        json!(1)
    );
    let body = app
        .gql(
            "mutation($f: PeopleFilter!) { createSegment(name: \"Canvassers\", filter: $f) { id } }",
            json!({ "f": {} }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Segment { name } } }",
            json!({ "id": segment }),
        )
        .await;
    assert_eq!(data(&body)["node"]["name"], json!("Canvassers"));
    let body = app.gql("{ segments { name filter } }", json!({})).await;
    assert_eq!(data(&body)["segments"][0]["name"], json!("Canvassers"));

    // Untag through the segment.
    let body = app
        .gql(
            "mutation($f: PeopleFilter!) { untagPeople(filter: $f, tags: [\"canvass\"]) { count } }",
            json!({ "f": { "segmentId": segment } }),
        )
        .await;
    assert_eq!(data(&body)["untagPeople"]["count"], json!(4));
    assert_eq!(
        total(
            &app.gql(count, json!({ "f": { "segmentId": segment } }))
                .await
        ),
        json!(0)
    );

    // Another organization: their segment id is NOT_FOUND here; their bulk tag touches none of ours.
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            count,
            json!({ "f": { "segmentId": segment } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = app
        .gql_as(Some(&other_key), tag, json!({ "f": {}, "t": ["theirs"] }))
        .await;
    assert_eq!(data(&body)["tagPeople"]["count"], json!(0));
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($id: ID!) { addTags(personId: $id, tags: [\"x\"]) { id } }",
            json!({ "id": ada }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
}
