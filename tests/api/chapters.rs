//! Chapters as an organization runs them: zip-code rules that place new people (sign-up,
//! public RSVP, import), the form's or event's own chapter first, regions whose organizers
//! work in the chapters inside them, and archiving.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{audit_log, people};
use uuid::Uuid;

use crate::events::{CREATE_EVENT, event_input};
use crate::harness::{TestApp, data, error_code};

const CREATE: &str = "mutation ($n: String!, $p: ID) {
    createChapter(name: $n, parentId: $p) { id name parentId archivedAt zipCodes } }";
const ZIPS: &str = "mutation ($id: ID!, $z: [String!]!) {
    setChapterZipCodes(id: $id, zipCodes: $z) { id zipCodes } }";
const MOVE: &str =
    "mutation ($id: ID!, $p: ID) { moveChapter(id: $id, parentId: $p) { id parentId } }";
const ARCHIVE: &str = "mutation ($id: ID!) { archiveChapter(id: $id) { id archivedAt zipCodes } }";
const SIGN_UP: &str = "mutation($input: SignUpInput!) {
    signUp(form: \"volunteer\", input: $input) { submissionId } }";

async fn chapter(app: &TestApp, name: &str, parent: Option<&str>) -> String {
    let body = app.gql(CREATE, json!({ "n": name, "p": parent })).await;
    data(&body)["createChapter"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sign_up(app: &TestApp, mut input: Value) {
    input["firstName"] = json!("Vol");
    data(&app.public(SIGN_UP, json!({ "input": input })).await);
}

/// The chapter (UUID) of the person with `email`, read from the database.
async fn chapter_of(app: &TestApp, email: &str) -> Option<String> {
    people::Entity::find()
        .filter(people::Column::Email.eq(email))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no person {email}"))
        .chapter_id
        .map(|id| id.to_string())
}

#[tokio::test]
async fn new_people_land_in_the_chapter_of_their_form_event_or_zip_code() {
    let app = TestApp::spawn().await;
    let brooklyn = chapter(&app, "Brooklyn", None).await;
    let heights = chapter(&app, "Brooklyn Heights", None).await;
    let body = app
        .gql(ZIPS, json!({ "id": brooklyn, "z": ["112", " 112 "] }))
        .await;
    assert_eq!(
        data(&body)["setChapterZipCodes"]["zipCodes"],
        json!(["112"])
    );
    let body = app
        .gql(ZIPS, json!({ "id": heights, "z": ["11201", "k1a-0b1"] }))
        .await;
    assert_eq!(
        data(&body)["setChapterZipCodes"]["zipCodes"],
        json!(["11201", "K1A0B1"])
    );

    // A code another chapter holds is refused, naming it; so is one that is no code. Either
    // way the chapter's codes stay as they were.
    let body = app
        .gql(ZIPS, json!({ "id": heights, "z": ["11201", "112"] }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "zipCodes");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("112") && message.contains("Brooklyn"),
        "{message}"
    );
    let body = app
        .gql(ZIPS, json!({ "id": heights, "z": ["112;01", "11201"] }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app.gql("{ chapters { name zipCodes } }", json!({})).await;
    assert_eq!(
        data(&body)["chapters"],
        json!([
            { "name": "Brooklyn", "zipCodes": ["112"] },
            { "name": "Brooklyn Heights", "zipCodes": ["11201", "K1A0B1"] },
        ])
    );

    // Sign-ups: the longest matching code wins; ZIP+4 and spacing don't matter.
    sign_up(
        &app,
        json!({ "email": "h@example.org", "zip": "11201-1234" }),
    )
    .await;
    sign_up(&app, json!({ "email": "b@example.org", "zip": "11215" })).await;
    sign_up(&app, json!({ "email": "c@example.org", "zip": "K1A 0B1" })).await;
    sign_up(&app, json!({ "email": "m@example.org", "zip": "10001" })).await;
    assert_eq!(
        chapter_of(&app, "h@example.org").await,
        Some(heights.clone())
    );
    assert_eq!(
        chapter_of(&app, "b@example.org").await,
        Some(brooklyn.clone())
    );
    assert_eq!(
        chapter_of(&app, "c@example.org").await,
        Some(heights.clone())
    );
    assert_eq!(chapter_of(&app, "m@example.org").await, None);
    // Someone who came back with a zip is placed then; someone staff placed stays put.
    sign_up(&app, json!({ "email": "late@example.org" })).await;
    assert_eq!(chapter_of(&app, "late@example.org").await, None);
    sign_up(&app, json!({ "email": "late@example.org", "zip": "11230" })).await;
    assert_eq!(
        chapter_of(&app, "late@example.org").await,
        Some(brooklyn.clone())
    );
    sign_up(&app, json!({ "email": "b@example.org", "zip": "11201" })).await;
    assert_eq!(
        chapter_of(&app, "b@example.org").await,
        Some(brooklyn.clone())
    );
    // The audit log says the chapter was set.
    let person_id = people::Entity::find()
        .filter(people::Column::Email.eq("h@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap()
        .id;
    let created = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("person.create"))
        .filter(audit_log::Column::ObjectId.eq(person_id))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(
        created.changes["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("chapter_id")),
        "{:?}",
        created.changes
    );

    // A chapter's own form places its sign-ups there, whatever the zip says.
    let body = app
        .gql(
            "mutation($c: ID!) { createForm(input: { slug: \"heights\", title: \"Heights\", chapterId: $c,
                fields: [{ key: EMAIL, required: true }, { key: ZIP, required: false }] }) { chapterId } }",
            json!({ "c": heights }),
        )
        .await;
    assert_eq!(data(&body)["createForm"]["chapterId"], json!(heights));
    let body = app
        .public(
            "mutation($input: SignUpInput!) { signUp(form: \"heights\", input: $input) { submissionId } }",
            json!({ "input": { "email": "f@example.org", "zip": "11215" } }),
        )
        .await;
    data(&body);
    assert_eq!(
        chapter_of(&app, "f@example.org").await,
        Some(heights.clone())
    );

    // A public RSVP to a chapter's event joins that chapter.
    let mut input = event_input("PUBLIC", Some(10));
    input["chapterId"] = json!(brooklyn);
    let body = app.gql(CREATE_EVENT, json!({ "i": input })).await;
    let shift = data(&body)["createEvent"]["hostLinks"][0]["shift"]["id"].clone();
    let body = app
        .public(
            r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status } }"#,
            json!({ "s": shift, "i": { "firstName": "Rae", "email": "rae@example.org" } }),
        )
        .await;
    data(&body);
    assert_eq!(
        chapter_of(&app, "rae@example.org").await,
        Some(brooklyn.clone())
    );

    // An import places new rows and people without a chapter by the same rules.
    let csv = "E-mail,Zip\nimp1@example.org,11201\nimp2@example.org,99999\nm@example.org,11201\n";
    let body = app
        .gql(
            "mutation($i: ImportPeopleInput!) { importPeople(input: $i) { created updated errorCount } }",
            json!({ "i": { "csv": csv, "mapping": [
                { "column": "E-mail", "field": "EMAIL" }, { "column": "Zip", "field": "ZIP" } ] } }),
        )
        .await;
    assert_eq!(data(&body)["importPeople"]["created"], 2, "{body}");
    assert_eq!(data(&body)["importPeople"]["updated"], 1, "{body}");
    assert_eq!(
        chapter_of(&app, "imp1@example.org").await,
        Some(heights.clone())
    );
    assert_eq!(chapter_of(&app, "imp2@example.org").await, None);
    // `m` had 10001, which matched nothing; the file's 11201 replaces it and places her.
    assert_eq!(
        chapter_of(&app, "m@example.org").await,
        Some(heights.clone())
    );

    // Archived, Heights places nobody: its codes are gone, and 11201 falls back to 112. It
    // leaves the list unless asked for, and nobody is moved into it.
    let body = app.gql(ARCHIVE, json!({ "id": heights })).await;
    let archived = &data(&body)["archiveChapter"];
    assert!(archived["archivedAt"].is_string(), "{body}");
    assert_eq!(archived["zipCodes"], json!([]));
    sign_up(
        &app,
        json!({ "email": "after@example.org", "zip": "11201" }),
    )
    .await;
    assert_eq!(
        chapter_of(&app, "after@example.org").await,
        Some(brooklyn.clone())
    );
    let body = app.gql("{ chapters { name } }", json!({})).await;
    assert_eq!(data(&body)["chapters"], json!([{ "name": "Brooklyn" }]));
    let body = app
        .gql("{ chapters(includeArchived: true) { name } }", json!({}))
        .await;
    assert_eq!(data(&body)["chapters"].as_array().unwrap().len(), 2);
    let body = app
        .gql(
            "mutation($id: ID!, $c: ID!) { updatePerson(id: $id, input: { chapterId: $c }) { id } }",
            json!({ "id": crate::people_crud::create(&app, json!({ "email": "x@example.org" })).await, "c": heights }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app
        .gql(ZIPS, json!({ "id": heights, "z": ["11201"] }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    // Its code is free for another chapter now.
    let body = app
        .gql(ZIPS, json!({ "id": brooklyn, "z": ["112", "11201"] }))
        .await;
    data(&body);

    // Another organization can't see or change any of it.
    let (_, other) = app.second_org("other-form").await;
    for (query, vars) in [
        (ZIPS, json!({ "id": brooklyn, "z": ["1"] })),
        (ARCHIVE, json!({ "id": brooklyn })),
    ] {
        let (_, body) = app.gql_as(Some(&other), query, vars).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
}

#[tokio::test]
async fn a_region_organizer_works_in_the_chapters_inside_it() {
    let app = TestApp::spawn().await;
    let region = chapter(&app, "New York City", None).await;
    let brooklyn = chapter(&app, "Brooklyn", Some(&region)).await;
    let park_slope = chapter(&app, "Park Slope", Some(&brooklyn)).await;
    let queens = chapter(&app, "Queens", None).await;

    let body = app
        .gql(
            "mutation ($e: String!, $c: [ID!]) { inviteUser(email: $e, role: ORGANIZER, chapterIds: $c) { token } }",
            json!({ "e": "nyc@example.org", "c": [region] }),
        )
        .await;
    let token = data(&body)["inviteUser"]["token"].clone();
    let body = app
        .public(
            "mutation ($t: String!) { acceptInvitation(token: $t, password: \"a long enough password\", name: \"Nia\") { accessToken } }",
            json!({ "t": token }),
        )
        .await;
    let nia = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let chapter_ids = |body: &Value| {
        let mut ids: Vec<String> = data(body)["me"]["chapterIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let (_, body) = app
        .gql_as(Some(&nia), "{ me { chapterIds } }", json!({}))
        .await;
    assert_eq!(
        chapter_ids(&body),
        sorted(vec![region.clone(), brooklyn.clone(), park_slope.clone()])
    );

    // She puts people in the chapters inside her region, not elsewhere.
    let create = "mutation($c: ID!, $e: String!) { createPerson(input: { email: $e, chapterId: $c }) { id } }";
    let (_, body) = app
        .gql_as(
            Some(&nia),
            create,
            json!({ "c": park_slope, "e": "p@example.org" }),
        )
        .await;
    data(&body);
    let (_, body) = app
        .gql_as(
            Some(&nia),
            create,
            json!({ "c": queens, "e": "q@example.org" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");

    // Queens joins the region: she works there from her next request.
    let body = app.gql(MOVE, json!({ "id": queens, "p": region })).await;
    assert_eq!(data(&body)["moveChapter"]["parentId"], json!(region));
    let (_, body) = app
        .gql_as(Some(&nia), "{ me { chapterIds } }", json!({}))
        .await;
    assert!(chapter_ids(&body).contains(&queens), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&nia),
            create,
            json!({ "c": queens, "e": "q@example.org" }),
        )
        .await;
    data(&body);
    // She cannot reshape chapters herself.
    let (_, body) = app
        .gql_as(Some(&nia), MOVE, json!({ "id": queens, "p": null }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // No chapter goes inside itself or inside a chapter within it.
    for (id, parent) in [(&region, &park_slope), (&brooklyn, &brooklyn)] {
        let body = app.gql(MOVE, json!({ "id": id, "p": parent })).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "parentId");
    }
    let body = app
        .gql(
            MOVE,
            json!({ "id": queens, "p": Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // A region with open chapters inside is not archived; once they are, it is.
    let body = app.gql(ARCHIVE, json!({ "id": brooklyn })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Park Slope"),
        "{body}"
    );
    data(&app.gql(ARCHIVE, json!({ "id": park_slope })).await);
    data(&app.gql(ARCHIVE, json!({ "id": brooklyn })).await);
    // A chapter is not created inside an archived one, nor restored inside one.
    let body = app
        .gql(CREATE, json!({ "n": "Bushwick", "p": brooklyn }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app
        .gql(
            "mutation ($id: ID!) { restoreChapter(id: $id) { id archivedAt } }",
            json!({ "id": park_slope }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let body = app
        .gql(
            "mutation ($id: ID!) { restoreChapter(id: $id) { id archivedAt } }",
            json!({ "id": brooklyn }),
        )
        .await;
    assert!(data(&body)["restoreChapter"]["archivedAt"].is_null());

    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.starts_with("chapter."))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "chapter.create",
        "chapter.move",
        "chapter.archive",
        "chapter.restore",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}
