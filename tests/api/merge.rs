//! Finding duplicates and merging people: everything moves to the kept person in one
//! transaction; the removed person is gone; the merge is recorded and emitted.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use turnout_entity::{domain_events, events, person_merges, rsvps, shifts};
use uuid::Uuid;

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

pub(crate) fn raw_id(global: &str) -> Uuid {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

/// The global ID of person `id` (`Person:<uuid>`, base64url), as the API gives it.
pub(crate) fn global_id(id: Uuid) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Person:{id}"))
}

async fn shift(app: &TestApp) -> Uuid {
    let now = Utc::now();
    let event = events::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        title: Set("Canvass".into()),
        time_zone: Set("UTC".into()),
        visibility: Set("public".into()),
        status: Set("published".into()),
        reminder_offsets_minutes: Set(json!([])),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    shifts::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        event_id: Set(event.id),
        starts_at: Set(now),
        ends_at: Set(now),
        host_token_hash: Set(Uuid::now_v7().to_string()),
        sequence: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db.conn())
    .await
    .unwrap()
    .id
}

async fn rsvp(app: &TestApp, shift_id: Uuid, person_id: Uuid, status: &str) {
    let now = Utc::now();
    rsvps::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        shift_id: Set(shift_id),
        person_id: Set(person_id),
        status: Set(status.into()),
        public_token: Set(Uuid::now_v7().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db.conn())
    .await
    .unwrap();
}

const MERGE: &str = "mutation($k: ID!, $r: ID!) { mergePeople(keepId: $k, removeId: $r) {
    id firstName lastName email phone zip smsConsent { granted } tags { name } notes { body }
    tasks { title } customFields { key value } } }";

#[tokio::test]
async fn merge_moves_everything_to_the_kept_person() {
    let app = TestApp::spawn().await;
    data(&app.gql("mutation { createCustomField(input: { key: \"hours\", label: \"H\", type: NUMBER }) { id } }", json!({})).await);
    data(&app.gql("mutation { createCustomField(input: { key: \"size\", label: \"S\", type: TEXT }) { id } }", json!({})).await);
    let keep = create(&app, json!({ "firstName": "Ada", "lastName": "Lovelace", "zip": "10001", "email": "ada@example.org" })).await;
    // The duplicate arrives through the sign-up form (a submission, the form's tag, consent).
    data(&app.public(
        "mutation($i: SignUpInput!) { signUp(form: \"volunteer\", input: $i) { submissionId } }",
        json!({ "i": { "firstName": "ada", "lastName": "LOVELACE", "zip": "10001", "email": "ada.l@example.org", "phone": "+12025550143", "smsConsent": true } }),
    ).await);
    let body = app
        .gql(
            "{ duplicatePeople { reason people { id email } } }",
            json!({}),
        )
        .await;
    let groups = data(&body)["duplicatePeople"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["reason"], json!("NAME_AND_ZIP"));
    assert_eq!(groups[0]["people"][0]["id"], json!(keep));
    let remove = groups[0]["people"][1]["id"].as_str().unwrap().to_owned();
    let referred = create(
        &app,
        json!({ "email": "ref@example.org", "referredById": remove }),
    )
    .await;

    for (id, vals) in [
        (&keep, json!([{ "key": "hours", "value": 1 }])),
        (
            &remove,
            json!([{ "key": "hours", "value": 9 }, { "key": "size", "value": "M" }]),
        ),
    ] {
        data(&app.gql("mutation($id: ID!, $v: [CustomFieldValueInput!]!) { setCustomFieldValues(personId: $id, values: $v) { id } }", json!({ "id": id, "v": vals })).await);
    }
    data(&app.gql("mutation($id: ID!) { addTags(personId: $id, tags: [\"captain\"]) { id } addNote(input: { personId: $id, kind: CALL, body: \"note on dup\" }) { id } createTask(input: { personId: $id, title: \"task on dup\" }) { id } }", json!({ "id": remove })).await);
    let (s1, s2) = (shift(&app).await, shift(&app).await);
    let (keep_raw, remove_raw) = (raw_id(&keep), raw_id(&remove));
    rsvp(&app, s1, keep_raw, "waitlisted").await;
    rsvp(&app, s1, remove_raw, "confirmed").await;
    rsvp(&app, s2, remove_raw, "cancelled").await;

    let body = app.gql(MERGE, json!({ "k": keep, "r": remove })).await;
    let p = &data(&body)["mergePeople"];
    assert_eq!(p["firstName"], json!("Ada"));
    assert_eq!(p["email"], json!("ada@example.org"));
    assert_eq!(
        p["phone"],
        json!("+12025550143"),
        "filled from the removed person"
    );
    assert_eq!(
        p["smsConsent"]["granted"],
        json!(true),
        "consent follows its phone"
    );
    assert_eq!(
        p["tags"],
        json!([{ "name": "captain" }, { "name": "volunteer" }])
    );
    assert_eq!(p["notes"], json!([{ "body": "note on dup" }]));
    assert_eq!(p["tasks"], json!([{ "title": "task on dup" }]));
    assert_eq!(
        p["customFields"],
        json!([{ "key": "hours", "value": 1 }, { "key": "size", "value": "M" }]),
        "the kept person's own value wins"
    );
    // RSVPs: the better one for the shared shift, and the other shift's.
    let rows = rsvps::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.person_id == keep_raw));
    assert_eq!(
        rows.iter().find(|r| r.shift_id == s1).unwrap().status,
        "confirmed"
    );
    // The referral and the submission point at the kept person.
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { referredById } }",
            json!({ "id": referred }),
        )
        .await;
    assert_eq!(data(&body)["person"]["referredById"], json!(keep));
    let subs = turnout_entity::form_submissions::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap();
    assert!(subs.iter().all(|s| s.person_id == keep_raw));
    // Gone, recorded, emitted.
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": remove }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let merges = person_merges::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(merges.len(), 1);
    assert_eq!(merges[0].removed_person_id, remove_raw);
    let events = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("person.merged"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].subject_id, keep_raw);
    let body = app.gql("{ duplicatePeople { reason } }", json!({})).await;
    assert_eq!(data(&body)["duplicatePeople"], json!([]));
}

#[tokio::test]
async fn merge_refuses_itself_unknown_and_foreign_people() {
    let app = TestApp::spawn().await;
    let a = create(&app, json!({ "email": "a@example.org" })).await;
    let b = create(&app, json!({ "email": "b@example.org" })).await;
    let body = app.gql(MERGE, json!({ "k": a, "r": a })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other_key), MERGE, json!({ "k": a, "r": b }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let theirs = {
        let (_, body) = app
            .gql_as(
                Some(&other_key),
                "mutation { createPerson(input: { email: \"t@example.org\" }) { id } }",
                json!({}),
            )
            .await;
        data(&body)["createPerson"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let body = app.gql(MERGE, json!({ "k": a, "r": theirs })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    // Nothing changed.
    let body = app.gql("{ people { totalCount } }", json!({})).await;
    assert_eq!(data(&body)["people"]["totalCount"], json!(2));
}
