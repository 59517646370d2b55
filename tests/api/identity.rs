//! Users, sessions, access tokens, invitations, roles, chapter limits and API key management,
//! through the HTTP server.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use turnout_api::{ApiConfig, JwtConfig};
use turnout_entity::{chapters, people};
use uuid::Uuid;

use crate::harness::{TestApp, data, error_code};

const PASSWORD: &str = "correct horse battery staple";

const INVITE: &str = "mutation($email: String!, $role: Role!, $chapters: [ID!]) {
    inviteUser(email: $email, role: $role, chapterIds: $chapters) { id email role chapterIds token expiresAt }
}";
const ACCEPT: &str = "mutation($token: String!, $password: String!, $name: String!) {
    acceptInvitation(token: $token, password: $password, name: $name) {
        accessToken refreshToken tokenType organizationId role
    }
}";
const LOGIN: &str = "mutation($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken role organizationId }
}";
const REFRESH: &str = "mutation($token: String!) {
    refresh(refreshToken: $token) { accessToken refreshToken }
}";
const ME: &str = "{ me { user { id email name } apiKeyId organizationId role scopes chapterIds } }";
const PEOPLE: &str = "{ people(first: 50) { edges { node { id email tags { name } } } } }";

// Two 32-byte secrets (base64) and one of "another deployment".
const SECRET_1: &str = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
const SECRET_2: &str = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY=";
const SECRET_OTHER: &str = "enl4d3Z1dHNycXBvbm1sa2ppaGdmZWRjYmF6eXh3dnU=";

/// An app whose signing keys are `k2` (signs) and `k1` (still accepted).
async fn app_with_rotating_keys() -> TestApp {
    let jwt = JwtConfig::new(
        turnout_api::jwt::parse_keys(&format!("k2:{SECRET_2},k1:{SECRET_1}")).unwrap(),
        "turnout",
        "turnout-api",
        std::time::Duration::from_secs(900),
    )
    .unwrap();
    // Forty forged tokens from one address would meet the credential backoff; this test is
    // about what each token is, so rate limits are off (tests/api/rate_limits.rs has them).
    TestApp::spawn_with(ApiConfig {
        jwt,
        rate_limits: crate::harness::unlimited().rate_limits,
        ..ApiConfig::default()
    })
    .await
}

/// Invites `email` with `role` (as the admin key) and accepts; returns the auth payload.
async fn user(app: &TestApp, email: &str, role: &str, chapters: &[Uuid]) -> Value {
    let body = app
        .gql(
            INVITE,
            json!({ "email": email, "role": role, "chapters": chapters }),
        )
        .await;
    let token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .public(
            ACCEPT,
            json!({ "token": token, "password": PASSWORD, "name": "Test User" }),
        )
        .await;
    data(&body)["acceptInvitation"].clone()
}

fn access(payload: &Value) -> String {
    payload["accessToken"].as_str().unwrap().to_owned()
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    app.gql_as(Some(token), ME, json!({})).await
}

fn secret(b64: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims that the app accepts, for `user` in `org`.
fn good_claims(user: &str, org: &str) -> Value {
    let now = now();
    json!({
        "iss": "turnout", "aud": "turnout-api", "sub": user, "org": org, "role": "organizer",
        "iat": now, "nbf": now, "exp": now + 600,
    })
}

fn forge(alg: Algorithm, kid: Option<&str>, secret_b64: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(&secret(secret_b64)),
    )
    .unwrap()
}

async fn assert_unauthenticated(app: &TestApp, token: &str, why: &str) {
    let (status, body) = me(app, token).await;
    assert_eq!(status, 401, "{why}: {body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{why}: {body}");
    assert!(
        body.get("data").is_none_or(|d| d.is_null()),
        "{why}: {body}"
    );
}

#[tokio::test]
async fn login_me_refresh_rotation_reuse_and_logout() {
    let app = TestApp::spawn().await;
    let session = user(&app, "alice@example.org", "ORGANIZER", &[]).await;
    assert_eq!(session["role"], "ORGANIZER");

    let (status, body) = me(&app, &access(&session)).await;
    assert_eq!(status, 200, "{body}");
    let me_data = &data(&body)["me"];
    assert_eq!(me_data["user"]["email"], "alice@example.org");
    assert_eq!(me_data["role"], "ORGANIZER");
    assert_eq!(me_data["organizationId"], app.org_id.to_string());
    assert!(me_data["chapterIds"].is_null());
    assert!(
        me_data["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("PEOPLE_WRITE"))
    );

    // Login: a wrong password and an unknown email look exactly the same.
    let body = app
        .public(
            LOGIN,
            json!({ "email": "alice@example.org", "password": PASSWORD }),
        )
        .await;
    let login = data(&body)["login"].clone();
    data(&me(&app, &access(&login)).await.1);
    let (_, wrong_pw) = app
        .gql_as(
            None,
            LOGIN,
            json!({ "email": "alice@example.org", "password": "wrong password!" }),
        )
        .await;
    let (_, no_user) = app
        .gql_as(
            None,
            LOGIN,
            json!({ "email": "nobody@example.org", "password": "wrong password!" }),
        )
        .await;
    assert_eq!(error_code(&wrong_pw), Some("UNAUTHENTICATED"), "{wrong_pw}");
    assert_eq!(
        wrong_pw["errors"][0]["message"],
        no_user["errors"][0]["message"]
    );
    assert_eq!(
        wrong_pw["errors"][0]["extensions"],
        no_user["errors"][0]["extensions"]
    );
    assert!(wrong_pw["data"].is_null());
    // The bootstrap owner has no password yet: no way in with any password.
    let (_, owner) = app
        .gql_as(
            None,
            LOGIN,
            json!({ "email": "owner@example.org", "password": "" }),
        )
        .await;
    assert_eq!(error_code(&owner), Some("UNAUTHENTICATED"), "{owner}");

    // Refresh rotates; the old token is spent.
    let r1 = login["refreshToken"].as_str().unwrap().to_owned();
    let body = app.public(REFRESH, json!({ "token": r1 })).await;
    let r2 = data(&body)["refresh"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(r1, r2);
    data(
        &me(
            &app,
            data(&body)["refresh"]["accessToken"].as_str().unwrap(),
        )
        .await
        .1,
    );
    // Reusing r1 fails and revokes the family: r2 stops working too.
    let (_, body) = app.gql_as(None, REFRESH, json!({ "token": r1 })).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let (_, body) = app.gql_as(None, REFRESH, json!({ "token": r2 })).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    // The other session (from acceptInvitation) is another family and still works.
    let other = session["refreshToken"].as_str().unwrap().to_owned();
    let body = app.public(REFRESH, json!({ "token": other })).await;
    let r3 = data(&body)["refresh"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Logout ends that session.
    let body = app
        .public(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": r3 }),
        )
        .await;
    assert_eq!(data(&body)["logout"], true);
    let (_, body) = app.gql_as(None, REFRESH, json!({ "token": r3 })).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let (_, body) = app
        .gql_as(None, REFRESH, json!({ "token": "rt_made-up" }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn a_removed_membership_stops_its_access_token_at_once() {
    let app = TestApp::spawn().await;
    let session = user(&app, "bob@example.org", "VIEWER", &[]).await;
    let token = access(&session);
    // Verified, and so remembered by the server's credential cache…
    let bob = data(&me(&app, &token).await.1)["me"]["user"]["id"].clone();
    let body = app
        .gql(
            "mutation ($u: ID!) { removeMember(userId: $u) }",
            json!({ "u": bob }),
        )
        .await;
    data(&body);
    // …which the removal empties.
    assert_unauthenticated(&app, &token, "membership removed").await;
    let (_, body) = app
        .gql_as(None, REFRESH, json!({ "token": session["refreshToken"] }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn invitations_work_once_and_respect_roles() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            INVITE,
            json!({ "email": "Carol@Example.org", "role": "ADMIN" }),
        )
        .await;
    let inv = &data(&body)["inviteUser"];
    assert_eq!(inv["email"], "carol@example.org");
    let token = inv["token"].as_str().unwrap().to_owned();
    let vars = json!({ "token": token, "password": PASSWORD, "name": "Carol" });
    let body = app.public(ACCEPT, vars.clone()).await;
    let carol = data(&body)["acceptInvitation"].clone();
    assert_eq!(carol["role"], "ADMIN");
    let (_, body) = app.gql_as(None, ACCEPT, vars).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"].is_null());

    // Too short a password is a validation error, and consumes nothing.
    let body = app
        .gql(
            INVITE,
            json!({ "email": "dan@example.org", "role": "ORGANIZER" }),
        )
        .await;
    let dan_token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app
        .gql_as(
            None,
            ACCEPT,
            json!({ "token": dan_token, "password": "short", "name": "Dan" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app
        .public(
            ACCEPT,
            json!({ "token": dan_token, "password": PASSWORD, "name": "Dan" }),
        )
        .await;
    let dan = data(&body)["acceptInvitation"].clone();

    // An admin invites, but not owners; an organizer does not invite at all.
    let (_, body) = app
        .gql_as(
            Some(&access(&carol)),
            INVITE,
            json!({ "email": "erin@example.org", "role": "OWNER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&access(&carol)),
            INVITE,
            json!({ "email": "erin@example.org", "role": "VIEWER" }),
        )
        .await;
    data(&body);
    let (_, body) = app
        .gql_as(
            Some(&access(&dan)),
            INVITE,
            json!({ "email": "frank@example.org", "role": "VIEWER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // The owner made at first start has no password: an admin cannot set one for them…
    let (_, body) = app
        .gql_as(
            Some(&access(&carol)),
            INVITE,
            json!({ "email": "owner@example.org", "role": "VIEWER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    // …but an owner-level credential (the bootstrap key) can, and the role stays OWNER.
    let owner = user(&app, "owner@example.org", "VIEWER", &[]).await;
    assert_eq!(owner["role"], "OWNER");
    let body = app
        .public(
            LOGIN,
            json!({ "email": "owner@example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(data(&body)["login"]["role"], "OWNER");
    // Once it has a password, nobody can set it again through an invitation.
    let body = app
        .gql(
            INVITE,
            json!({ "email": "owner@example.org", "role": "VIEWER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // Members cannot be invited twice.
    let body = app
        .gql(
            INVITE,
            json!({ "email": "dan@example.org", "role": "VIEWER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn access_tokens_are_fully_checked() {
    let app = app_with_rotating_keys().await;
    let session = user(&app, "gina@example.org", "ORGANIZER", &[]).await;
    let issued = access(&session);
    // Issued tokens name the first key.
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(issued.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], "k2");
    assert_eq!(header["alg"], "HS256");
    let body = me(&app, &issued).await.1;
    let me_data = data(&body)["me"].clone();
    let user_id = me_data["user"]["id"].as_str().unwrap().to_owned();
    let org_id = me_data["organizationId"].as_str().unwrap().to_owned();
    let good = good_claims(&user_id, &org_id);

    // Rotation: the old key k1 and the new key k2 are both accepted.
    for (kid, key) in [("k1", SECRET_1), ("k2", SECRET_2)] {
        let token = forge(Algorithm::HS256, Some(kid), key, &good);
        let (status, body) = me(&app, &token).await;
        assert_eq!(status, 200, "{kid}: {body}");
        assert_eq!(data(&body)["me"]["user"]["id"], user_id.as_str());
    }

    let with = |patch: Value| {
        let mut claims = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(field);
        claims
    };
    let n = now();
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "iat": n - 1200, "nbf": n - 1200, "exp": n - 600 })),
            ),
        ),
        (
            "not yet valid",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "nbf": n + 600, "exp": n + 1200 })),
            ),
        ),
        (
            "issued in the future",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "iat": n + 600 })),
            ),
        ),
        (
            "wrong audience",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "aud": "someone-else" })),
            ),
        ),
        (
            "wrong issuer",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "iss": "evil" })),
            ),
        ),
        (
            "no exp",
            forge(Algorithm::HS256, Some("k1"), SECRET_1, &without("exp")),
        ),
        (
            "no nbf",
            forge(Algorithm::HS256, Some("k1"), SECRET_1, &without("nbf")),
        ),
        (
            "no iat",
            forge(Algorithm::HS256, Some("k1"), SECRET_1, &without("iat")),
        ),
        (
            "no aud",
            forge(Algorithm::HS256, Some("k1"), SECRET_1, &without("aud")),
        ),
        (
            "no iss",
            forge(Algorithm::HS256, Some("k1"), SECRET_1, &without("iss")),
        ),
        (
            "wrong algorithm (HS512 with the right key)",
            forge(Algorithm::HS512, Some("k1"), SECRET_1, &good),
        ),
        (
            "wrong algorithm (HS384 with the right key)",
            forge(Algorithm::HS384, Some("k2"), SECRET_2, &good),
        ),
        (
            "unknown kid",
            forge(Algorithm::HS256, Some("k9"), SECRET_1, &good),
        ),
        ("no kid", forge(Algorithm::HS256, None, SECRET_2, &good)),
        (
            "a key of another deployment",
            forge(Algorithm::HS256, Some("k1"), SECRET_OTHER, &good),
        ),
        (
            "another user's organization",
            forge(
                Algorithm::HS256,
                Some("k1"),
                SECRET_1,
                &with(json!({ "org": Uuid::now_v7().to_string() })),
            ),
        ),
    ];
    for (why, token) in &cases {
        assert_unauthenticated(&app, token, why).await;
    }

    // alg: none, unsigned.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
    assert_unauthenticated(&app, &format!("{none_header}.{payload}."), "alg none").await;
    let none_lower = URL_SAFE_NO_PAD.encode(br#"{"alg":"None","kid":"k1"}"#);
    assert_unauthenticated(&app, &format!("{none_lower}.{payload}."), "alg None").await;

    // Tampered payload: a valid signature over other claims.
    let valid = forge(Algorithm::HS256, Some("k1"), SECRET_1, &good);
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered_claims = with(json!({ "exp": n + 100_000, "role": "owner" }));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered_claims).unwrap()),
        parts[2]
    );
    assert_unauthenticated(&app, &tampered, "tampered payload").await;
    assert_unauthenticated(&app, &format!("{valid}x"), "tampered signature").await;
    // The untampered one still works (so the cases above fail for their own reason).
    data(&me(&app, &valid).await.1);
}

#[tokio::test]
async fn a_chapter_scoped_organizer_sees_only_their_chapters() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now();
    let mut chapter_ids = Vec::new();
    for name in ["north", "south"] {
        let id = Uuid::now_v7();
        chapters::ActiveModel {
            id: Set(id),
            organization_id: Set(app.org_id),
            name: Set(name.into()),
            slug: Set(name.into()),
            created_at: Set(now),
            parent_id: Set(None),
            archived_at: Set(None),
            email_from: Set(None),
            sms_from: Set(None),
            whatsapp_from: Set(None),
        }
        .insert(app.db.conn())
        .await
        .unwrap();
        chapter_ids.push(id);
    }
    let (north, south) = (chapter_ids[0], chapter_ids[1]);
    for (email, chapter) in [
        ("n1@example.org", Some(north)),
        ("n2@example.org", Some(north)),
        ("s1@example.org", Some(south)),
        ("none@example.org", None),
    ] {
        data(
            &app.public(
                "mutation($input: SignUpInput!) { signUp(form: \"volunteer\", input: $input) { submissionId } }",
                json!({ "input": { "firstName": "X", "email": email } }),
            )
            .await,
        );
        people::Entity::update_many()
            .col_expr(
                people::Column::ChapterId,
                sea_orm::sea_query::Expr::value(chapter),
            )
            .filter(people::Column::Email.eq(email))
            .exec(app.db.conn())
            .await
            .unwrap();
    }

    // The admin key sees everyone; the north organizer only the north chapter.
    let all = app.gql(PEOPLE, json!({})).await;
    assert_eq!(data(&all)["people"]["edges"].as_array().unwrap().len(), 4);
    let id_of = |email: &str| {
        data(&all)["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["email"] == email)
            .unwrap()["node"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let session = user(&app, "north@example.org", "ORGANIZER", &[north]).await;
    let token = access(&session);
    let body = me(&app, &token).await.1;
    assert_eq!(data(&body)["me"]["chapterIds"], json!([north.to_string()]));

    let (_, body) = app.gql_as(Some(&token), PEOPLE, json!({})).await;
    let mut emails: Vec<&str> = data(&body)["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(emails, ["n1@example.org", "n2@example.org"]);
    // Nested relations still resolve for visible people.
    assert_eq!(
        data(&body)["people"]["edges"][0]["node"]["tags"],
        json!([{ "name": "volunteer" }])
    );
    // Search and tag filters cannot reach past the chapter either.
    let (_, body) = app
        .gql_as(
            Some(&token),
            "{ people(filter: { search: \"s1\", tagsAny: [\"volunteer\"] }) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["people"]["edges"], json!([]));

    for outside in ["s1@example.org", "none@example.org"] {
        let id = id_of(outside);
        for query in [
            "query($id: ID!) { person(id: $id) { email } }",
            "query($id: ID!) { node(id: $id) { id ... on Person { email } } }",
        ] {
            let (_, body) = app.gql_as(Some(&token), query, json!({ "id": id })).await;
            assert_eq!(error_code(&body), Some("NOT_FOUND"), "{outside}: {body}");
            assert!(!body.to_string().contains(outside), "{body}");
        }
    }
    let (_, body) = app
        .gql_as(
            Some(&token),
            "query($id: ID!) { person(id: $id) { email } }",
            json!({ "id": id_of("n1@example.org") }),
        )
        .await;
    assert_eq!(data(&body)["person"]["email"], "n1@example.org");

    // Unknown chapters cannot be granted.
    let body = app
        .gql(
            INVITE,
            json!({ "email": "x@example.org", "role": "VIEWER", "chapters": [Uuid::now_v7()] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

#[tokio::test]
async fn api_keys_are_listed_expire_and_revoke() {
    let app = TestApp::spawn().await;
    let expires = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let body = app
        .gql(
            "mutation($at: DateTime) { createApiKey(name: \"sync\", scopes: [PEOPLE_READ], expiresAt: $at) { id token } }",
            json!({ "at": expires }),
        )
        .await;
    let created = data(&body)["createApiKey"].clone();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    data(&app.gql_as(Some(&token), PEOPLE, json!({})).await.1);

    let list = app
        .gql(
            "{ apiKeys { id name prefix scopes createdAt lastUsedAt expiresAt revokedAt } }",
            json!({}),
        )
        .await;
    let keys = data(&list)["apiKeys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2, "the bootstrap key and the new one: {list}");
    let sync = keys.iter().find(|k| k["id"] == id.as_str()).unwrap();
    assert_eq!(sync["name"], "sync");
    assert_eq!(sync["scopes"], json!(["PEOPLE_READ"]));
    assert!(token.starts_with(&format!("tn_{}_", sync["prefix"].as_str().unwrap())));
    assert!(!sync["expiresAt"].is_null());
    assert!(!sync["lastUsedAt"].is_null(), "it was used above");
    assert!(sync["revokedAt"].is_null());
    let secret = token.splitn(3, '_').nth(2).unwrap();
    assert!(!list.to_string().contains(secret), "never the secret");

    // A key without KEYS_MANAGE cannot list or revoke; an organizer neither.
    for query in [
        "{ apiKeys { id } }".to_owned(),
        format!("mutation {{ revokeApiKey(id: \"{id}\") {{ id }} }}"),
    ] {
        let (_, body) = app.gql_as(Some(&token), &query, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    let organizer = user(&app, "org@example.org", "ORGANIZER", &[]).await;
    let (_, body) = app
        .gql_as(Some(&access(&organizer)), "{ apiKeys { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // An admin user manages keys, but cannot mint an ADMIN key (more than they hold).
    let admin = user(&app, "adm@example.org", "ADMIN", &[]).await;
    let (_, body) = app
        .gql_as(
            Some(&access(&admin)),
            "mutation { createApiKey(name: \"x\", scopes: [ADMIN]) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql_as(
            Some(&access(&admin)),
            "mutation { createApiKey(name: \"x\", scopes: [PEOPLE_READ]) { id } }",
            json!({}),
        )
        .await;
    data(&body);
    // Expiry must be in the future.
    let body = app
        .gql(
            "mutation { createApiKey(name: \"old\", scopes: [PEOPLE_READ], expiresAt: \"2020-01-01T00:00:00Z\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");

    // Revoked: stops at once.
    let body = app
        .gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(!data(&body)["revokeApiKey"]["revokedAt"].is_null());
    let (status, body) = app.gql_as(Some(&token), PEOPLE, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    // Expired: stops too, though the server remembered the key when it still worked.
    let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
    let body = app
        .gql(
            "mutation ($at: DateTime!) { createApiKey(name: \"soon\", scopes: [PEOPLE_READ], expiresAt: $at) { token } }",
            json!({ "at": expires.to_rfc3339() }),
        )
        .await;
    let soon_token = data(&body)["createApiKey"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.gql_as(Some(&soon_token), PEOPLE, json!({})).await.1);
    let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_millis(100)).await;
    let (status, body) = app.gql_as(Some(&soon_token), PEOPLE, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    // Another organization's key id is not found.
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

/// Issue 17, item 8: a key holding only `MEMBERS_MANAGE` invited `role: ADMIN`, accepted the
/// invitation itself and held everything. Nobody invites above what they hold.
#[tokio::test]
async fn nobody_invites_a_role_above_their_own_scopes() {
    let app = TestApp::spawn().await;
    let members_only = app.key_with(&["MEMBERS_MANAGE"]).await;
    for role in ["OWNER", "ADMIN", "ORGANIZER", "VIEWER"] {
        let (status, body) = app
            .gql_as(
                Some(&members_only),
                INVITE,
                json!({ "email": "mallory@example.org", "role": role }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role}: {body}");
    }
    // With the scopes a viewer has, it may invite a viewer, and no more.
    let viewer_maker = app
        .key_with(&["MEMBERS_MANAGE", "PEOPLE_READ", "EVENTS_READ"])
        .await;
    let (_, body) = app
        .gql_as(
            Some(&viewer_maker),
            INVITE,
            json!({ "email": "val@example.org", "role": "VIEWER" }),
        )
        .await;
    assert_eq!(data(&body)["inviteUser"]["role"], "VIEWER");
    let (_, body) = app
        .gql_as(
            Some(&viewer_maker),
            INVITE,
            json!({ "email": "olga@example.org", "role": "ORGANIZER" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // The admin key invites an admin as before.
    let body = app
        .gql(
            INVITE,
            json!({ "email": "ann@example.org", "role": "ADMIN" }),
        )
        .await;
    assert_eq!(data(&body)["inviteUser"]["role"], "ADMIN");
}

/// Issue 17, item 7: revoking the only key used to lock the organization out for good. On the
/// server, `turnout org recover` mints a new admin key, audited.
#[tokio::test]
async fn an_organization_locked_out_recovers_with_the_cli() {
    let app = TestApp::spawn().await;
    let keys = app.gql("{ apiKeys { id } }", json!({})).await;
    let own = data(&keys)["apiKeys"][0]["id"].as_str().unwrap().to_owned();
    data(
        &app.gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { id } }",
            json!({ "id": own }),
        )
        .await,
    );
    let (status, _) = app
        .gql_as(Some(&app.key), "{ me { organizationId } }", json!({}))
        .await;
    assert_eq!(status, 401, "the organization is locked out");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_turnout"))
        .args(["org", "recover", &app.org_id.to_string()])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout
        .split_whitespace()
        .find(|w| w.starts_with("tn_"))
        .unwrap_or_else(|| panic!("no key in {stdout}"));
    let (status, body) = app
        .gql_as(Some(token), "{ me { organizationId scopes } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(data(&body)["me"]["organizationId"], app.org_id.to_string());
    let audited = turnout_entity::audit_log::Entity::find()
        .filter(turnout_entity::audit_log::Column::Action.eq("api_key.recover"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);

    // An organization that does not exist is an error, not a key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_turnout"))
        .args(["org", "recover", "no-such-org"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
