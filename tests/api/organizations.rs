//! Running more than one organization: `turnout org create`, and each organization's own
//! objects (the organization, chapters, members) through the API, kept apart by tenant.

use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::json;

use crate::harness::{TestApp, data, error_code};

fn turnout(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_turnout"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// The word after `label` in `text`.
fn after<'a>(text: &'a str, label: &str) -> &'a str {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
        + label.len();
    text[start..].split_whitespace().next().unwrap()
}

#[tokio::test]
async fn an_operator_creates_an_organization_whose_owner_takes_it_over() {
    let app = TestApp::spawn().await;
    data(&app.gql("mutation { createPerson(input: { firstName: \"Ada\", email: \"ada@example.org\" }) { id } }", json!({})).await);
    let orgs = || turnout_entity::organizations::Entity::find().count(app.db.conn());
    let before = orgs().await.unwrap();

    // Bad input names the field and creates nothing.
    let out = turnout(
        &app,
        &[
            "org",
            "create",
            "--name",
            "Local 12",
            "--owner-email",
            "nope",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ownerEmail"),
        "{out:?}"
    );
    assert_eq!(orgs().await.unwrap(), before);

    let out = turnout(
        &app,
        &[
            "org",
            "create",
            "--name",
            "Local 12",
            "--owner-email",
            "Steward@Local12.org",
            "--admin-key",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let invitation = after(&stdout, "Owner invitation for steward@local12.org: ");
    let key = after(&stdout, "Admin API key: ");
    assert_eq!(orgs().await.unwrap(), before + 1);

    // The key acts in the new organization only: its name, its owner, none of the first
    // organization's people.
    let (_, body) = app
        .gql_as(
            Some(key),
            "{ organization { name slug } members { email role chapterIds } people(first: 5) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let d = data(&body);
    assert_eq!(d["organization"]["name"], "Local 12");
    assert!(
        d["organization"]["slug"]
            .as_str()
            .unwrap()
            .starts_with("local-12-")
    );
    assert_eq!(
        d["members"],
        json!([{ "email": "steward@local12.org", "role": "OWNER", "chapterIds": [] }])
    );
    assert_eq!(d["people"]["edges"], json!([]));

    // The owner accepts the invitation, setting a password, and is signed in as the owner.
    let body = app
        .public(
            "mutation ($t: String!) { acceptInvitation(token: $t, password: \"correct horse battery\", name: \"Sam\") { accessToken } }",
            json!({ "t": invitation }),
        )
        .await;
    let token = data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app
        .gql_as(
            Some(&token),
            "{ organization { name } me { role } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["organization"]["name"], "Local 12");
    assert_eq!(data(&body)["me"]["role"], "OWNER");
    // The invitation works once.
    let body = app
        .public(
            "mutation ($t: String!) { acceptInvitation(token: $t, password: \"another long one\", name: \"X\") { accessToken } }",
            json!({ "t": invitation }),
        )
        .await;
    assert!(error_code(&body).is_some(), "{body}");

    // Without --admin-key no key is printed.
    let out = turnout(
        &app,
        &[
            "org",
            "create",
            "--name",
            "Local 13",
            "--owner-email",
            "s@local13.org",
        ],
    );
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tn_"));
}

#[tokio::test]
async fn chapters_are_created_renamed_and_listed_within_their_organization() {
    let app = TestApp::spawn().await;
    let create = "mutation ($n: String!) { createChapter(name: $n) { id name slug } }";
    let body = app.gql(create, json!({ "n": "North Side" })).await;
    let north = data(&body)["createChapter"].clone();
    assert_eq!(north["slug"], "north-side");
    data(&app.gql(create, json!({ "n": "Bay Ridge" })).await);

    // The same name up to case and punctuation is taken.
    let body = app.gql(create, json!({ "n": "north side!" })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "name");
    let body = app.gql(create, json!({ "n": "  " })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["code"], "REQUIRED",
        "{body}"
    );

    let rename =
        "mutation ($id: ID!, $n: String!) { renameChapter(id: $id, name: $n) { id name slug } }";
    let body = app
        .gql(rename, json!({ "id": north["id"], "n": "Northside" }))
        .await;
    assert_eq!(data(&body)["renameChapter"]["name"], "Northside");
    assert_eq!(data(&body)["renameChapter"]["slug"], "north-side");

    let body = app.gql("{ chapters { name } }", json!({})).await;
    assert_eq!(
        data(&body)["chapters"],
        json!([{ "name": "Bay Ridge" }, { "name": "Northside" }])
    );
    // A rename may not take another chapter's name, nor may a new chapter take a renamed
    // one's, or the first name its slug keeps.
    let body = app
        .gql(rename, json!({ "id": north["id"], "n": "bay ridge" }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "name", "{body}");
    for taken in ["Northside", "North Side"] {
        let body = app.gql(create, json!({ "n": taken })).await;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{taken}: {body}");
    }

    // Any credential reads them; changing them needs members:manage.
    let reader = app.key_with(&["EVENTS_READ"]).await;
    let (_, body) = app
        .gql_as(Some(&reader), "{ chapters { name } }", json!({}))
        .await;
    assert_eq!(data(&body)["chapters"].as_array().unwrap().len(), 2);
    let (_, body) = app
        .gql_as(Some(&reader), create, json!({ "n": "South" }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(Some(&reader), "{ members { email } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // Another organization sees none of them and cannot rename them.
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other), "{ chapters { name } }", json!({}))
        .await;
    assert_eq!(data(&body)["chapters"], json!([]));
    let (_, body) = app
        .gql_as(
            Some(&other),
            rename,
            json!({ "id": north["id"], "n": "Mine" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&other),
            rename,
            json!({ "id": "not-a-uuid", "n": "Mine" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");

    let audited = turnout_entity::audit_log::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("chapter."))
        .count();
    assert_eq!(audited, 3);
}

const INVITE: &str =
    "mutation ($e: String!, $r: Role!) { inviteUser(email: $e, role: $r) { id token } }";
const ACCEPT: &str = "mutation ($t: String!) { acceptInvitation(token: $t, password: \"a long enough password\", name: \"Member\") { accessToken } }";
const CHANGE: &str =
    "mutation ($u: ID!, $r: Role!) { changeMemberRole(userId: $u, role: $r) { userId role } }";

/// Invites `email` as `role` with the admin key and accepts; the member's access token.
async fn member(app: &TestApp, email: &str, role: &str) -> String {
    let body = app.gql(INVITE, json!({ "e": email, "r": role })).await;
    let token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app.public(ACCEPT, json!({ "t": token })).await;
    data(&body)["acceptInvitation"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let body = app.gql("{ members { userId email } }", json!({})).await;
    data(&body)["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("no member {email} in {body}"))["userId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn members_change_role_and_leave_within_the_rules() {
    let app = TestApp::spawn().await;
    let bea = member(&app, "bea@example.org", "ORGANIZER").await;
    let bea_id = user_id(&app, "bea@example.org").await;
    let owner_id = user_id(&app, "owner@example.org").await;
    // Her credential is verified now, and remembered for the next requests…
    let (_, body) = app.gql_as(Some(&bea), "{ me { role } }", json!({})).await;
    assert_eq!(data(&body)["me"]["role"], "ORGANIZER");

    let body = app.gql(CHANGE, json!({ "u": bea_id, "r": "VIEWER" })).await;
    assert_eq!(data(&body)["changeMemberRole"]["role"], "VIEWER");
    // …until the change, which takes effect at once.
    let (_, body) = app.gql_as(Some(&bea), "{ me { role } }", json!({})).await;
    assert_eq!(data(&body)["me"]["role"], "VIEWER");

    // The last owner stays an owner, and cannot be removed.
    let body = app
        .gql(CHANGE, json!({ "u": owner_id, "r": "ADMIN" }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let remove = "mutation ($u: ID!) { removeMember(userId: $u) }";
    let body = app.gql(remove, json!({ "u": owner_id })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // A manager without admin grants nothing it lacks and does not touch owners.
    let manager = app.key_with(&["MEMBERS_MANAGE", "PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(Some(&manager), CHANGE, json!({ "u": bea_id, "r": "ADMIN" }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&manager),
            CHANGE,
            json!({ "u": owner_id, "r": "VIEWER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // Another organization finds no such member.
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other), CHANGE, json!({ "u": bea_id, "r": "ADMIN" }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // Removed: her session ends with the membership.
    let body = app.gql(remove, json!({ "u": bea_id })).await;
    assert_eq!(data(&body)["removeMember"], bea_id.as_str());
    let (status, _) = app.gql_as(Some(&bea), "{ me { role } }", json!({})).await;
    assert_eq!(status, 401);
    let body = app.gql("{ members { email } }", json!({})).await;
    assert_eq!(
        data(&body)["members"],
        json!([{ "email": "owner@example.org" }])
    );
    let body = app.gql(remove, json!({ "u": bea_id })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn pending_invitations_are_listed_reissued_and_cancelled() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(INVITE, json!({ "e": "cy@example.org", "r": "VIEWER" }))
        .await;
    let cy = data(&body)["inviteUser"].clone();
    let body = app
        .gql(INVITE, json!({ "e": "di@example.org", "r": "ORGANIZER" }))
        .await;
    let di = data(&body)["inviteUser"].clone();

    let body = app
        .gql("{ invitations { id email role } }", json!({}))
        .await;
    assert_eq!(
        data(&body)["invitations"],
        json!([
            { "id": cy["id"], "email": "cy@example.org", "role": "VIEWER" },
            { "id": di["id"], "email": "di@example.org", "role": "ORGANIZER" },
        ])
    );

    // Reissued: the old token no longer works, the new one does.
    let reissue = "mutation ($id: ID!) { reissueInvitation(id: $id) { id token } }";
    let body = app.gql(reissue, json!({ "id": cy["id"] })).await;
    let new_token = data(&body)["reissueInvitation"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_token, cy["token"].as_str().unwrap());
    let body = app.public(ACCEPT, json!({ "t": cy["token"] })).await;
    assert!(body["data"].is_null(), "{body}");
    let body = app.public(ACCEPT, json!({ "t": new_token })).await;
    assert!(data(&body)["acceptInvitation"]["accessToken"].is_string());

    // Another organization cannot cancel this one's invitation.
    let cancel = "mutation ($id: ID!) { cancelInvitation(id: $id) }";
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other), cancel, json!({ "id": di["id"] }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // Cancelled: its token stops working, and nothing is pending.
    let body = app.gql(cancel, json!({ "id": di["id"] })).await;
    assert_eq!(data(&body)["cancelInvitation"], di["id"]);
    let body = app.public(ACCEPT, json!({ "t": di["token"] })).await;
    assert!(body["data"].is_null(), "{body}");
    let body = app.gql("{ invitations { id } }", json!({})).await;
    assert_eq!(data(&body)["invitations"], json!([]));
}

#[tokio::test]
async fn a_disabled_member_cannot_sign_in_until_enabled() {
    let app = TestApp::spawn().await;
    let bea = member(&app, "bea@example.org", "ORGANIZER").await;
    let bea_id = user_id(&app, "bea@example.org").await;
    let owner_id = user_id(&app, "owner@example.org").await;
    let login = "mutation { login(email: \"bea@example.org\", password: \"a long enough password\") { accessToken refreshToken } }";
    let session = data(&app.public(login, json!({})).await)["login"].clone();
    let (status, _) = app.gql_as(Some(&bea), "{ me { role } }", json!({})).await;
    assert_eq!(status, 200);

    let disable =
        "mutation ($u: ID!) { disableMember(userId: $u) { userId role chapterIds disabled } }";
    let enable = "mutation ($u: ID!) { enableMember(userId: $u) { userId role disabled } }";
    let body = app.gql(disable, json!({ "u": bea_id })).await;
    assert_eq!(
        data(&body)["disableMember"],
        json!({ "userId": bea_id, "role": "ORGANIZER", "chapterIds": [], "disabled": true })
    );
    // Her access token, her refresh token and her password stop working here at once.
    let (status, _) = app.gql_as(Some(&bea), "{ me { role } }", json!({})).await;
    assert_eq!(status, 401);
    let body = app
        .public(
            "mutation ($t: String!) { refresh(refreshToken: $t) { accessToken } }",
            json!({ "t": session["refreshToken"] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let body = app.public(login, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    // Disabling again changes nothing, and audits nothing.
    data(&app.gql(disable, json!({ "u": bea_id })).await);

    // The organization keeps an enabled owner; only an owner disables one; nobody disables
    // themselves.
    let body = app.gql(disable, json!({ "u": owner_id })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let manager = app.key_with(&["MEMBERS_MANAGE", "PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(Some(&manager), disable, json!({ "u": owner_id }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let admin = member(&app, "ade@example.org", "ADMIN").await;
    let ade_id = user_id(&app, "ade@example.org").await;
    let (_, body) = app
        .gql_as(Some(&admin), disable, json!({ "u": ade_id }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Another organization finds no such member.
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other), enable, json!({ "u": bea_id }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // Enabled, she signs in again with the role she had.
    let body = app.gql(enable, json!({ "u": bea_id })).await;
    assert_eq!(data(&body)["enableMember"]["disabled"], false);
    let session = data(&app.public(login, json!({})).await)["login"].clone();
    let token = session["accessToken"].as_str().unwrap();
    let (_, body) = app.gql_as(Some(token), "{ me { role } }", json!({})).await;
    assert_eq!(data(&body)["me"]["role"], "ORGANIZER");

    let actions: Vec<String> = turnout_entity::audit_log::Entity::find()
        .order_by_asc(turnout_entity::audit_log::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a == "membership.disable" || a == "membership.enable")
        .collect();
    assert_eq!(actions, ["membership.disable", "membership.enable"]);
}
