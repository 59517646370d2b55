use serde_json::json;

use crate::harness::{TestApp, data, error_code};

const PEOPLE: &str = "{ people(first: 5) { edges { node { email } } } }";

#[tokio::test]
async fn reads_need_a_valid_key_with_the_right_scope() {
    let app = TestApp::spawn().await;
    let (_, body) = app.gql_as(None, PEOPLE, json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    for bad in ["tn_xxxxxxxxxxxx_nope", "garbage", &format!("{}x", app.key)] {
        let (status, body) = app.gql_as(Some(bad), PEOPLE, json!({})).await;
        assert_eq!(status, 401);
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }

    let forms_key = app.key_with(&["FORMS_WRITE"]).await;
    let (status, body) = app.gql_as(Some(&forms_key), PEOPLE, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // …and it cannot mint itself a stronger key.
    let (_, body) = app
        .gql_as(
            Some(&forms_key),
            "mutation { createApiKey(name: \"x\", scopes: [ADMIN]) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app.gql_as(Some(&reader), PEOPLE, json!({})).await;
    data(&body);
}

/// A key revoked by another process (here, another connection pool with its own credential
/// cache, as a second API server has) stops working in this server too: the revocation
/// NOTIFYs as it commits, and this server forgets the key it had verified. PostgreSQL only:
/// on SQLite one server process makes every credential change of its file.
#[tokio::test]
async fn a_key_revoked_by_another_process_stops_here_at_once() {
    use sea_orm::ConnectionTrait as _;
    use turnout_domain::{api_keys, audit::RequestContext, auth, db::Db};

    let app = TestApp::spawn().await;
    if !app.database_url.starts_with("postgres") {
        eprintln!("skipped: the cross-process revocation is PostgreSQL's (LISTEN/NOTIFY)");
        return;
    }
    let key = app.key_with(&["PEOPLE_READ"]).await;
    let body = app.gql("{ apiKeys { id prefix } }", json!({})).await;
    let prefix = key.split('_').nth(1).unwrap();
    let id = data(&body)["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["prefix"] == prefix)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Until the server serves this key from its cache (which it trusts once it LISTENs):
    // take the key's scope away behind the cache's back, where no NOTIFY tells of it, and see
    // the server still answer with the scope it remembered.
    let set_scopes = |scopes: &'static str| {
        let sql = format!("UPDATE api_keys SET scopes = '{scopes}' WHERE prefix = '{prefix}'");
        let db = app.db.clone();
        async move { db.conn().execute_unprepared(&sql).await.unwrap() }
    };
    let started = std::time::Instant::now();
    loop {
        set_scopes(r#"["people:read"]"#).await;
        let (status, body) = app.gql_as(Some(&key), PEOPLE, json!({})).await;
        assert_eq!((status, error_code(&body)), (200, None), "{body}");
        set_scopes("[]").await;
        let (_, body) = app.gql_as(Some(&key), PEOPLE, json!({})).await;
        if error_code(&body).is_none() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the server never remembered the key: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Revoked through another pool, as another API process would.
    let other = Db::connect(&app.database_url, 1).await.unwrap();
    let admin = auth::authenticate(&other, &app.key).await.unwrap();
    let ctx = RequestContext { client_ip: None };
    api_keys::revoke(&other, &admin.can().unwrap(), &ctx, id)
        .await
        .unwrap();

    // Delivery is asynchronous, but takes milliseconds, far less than the cache's TTL.
    let started = std::time::Instant::now();
    loop {
        let (status, body) = app.gql_as(Some(&key), PEOPLE, json!({})).await;
        if status == 401 {
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the revoked key still works here after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
