//! `turnout backup` while sign-ups keep arriving, and `turnout restore` refusing a live server.
//! On PostgreSQL both commands answer with the pg_dump recipe instead.

use serde_json::json;

use crate::harness::{TestApp, data};

fn turnout(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_turnout"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_taken_during_writes_is_whole_and_a_live_server_cannot_be_restored_over() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let file_arg = file.to_str().unwrap();
    if app.database_url.starts_with("postgres") {
        let out = turnout(&app, &["backup", file_arg]);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
            "{out:?}"
        );
        return;
    }
    let create =
        "mutation($e: String!) { createPerson(input: { firstName: \"W\", email: $e }) { id } }";
    for i in 0..5 {
        data(
            &app.gql(create, json!({ "e": format!("before{i}@example.org") }))
                .await,
        );
    }
    // Writes go on while the backup runs.
    let writer = {
        let (client, base, key) = (app.client.clone(), app.base.clone(), app.key.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                let body = json!({ "query": create, "variables": { "e": format!("during{i}@example.org") } });
                let res = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        })
    };
    let out = turnout(&app, &["backup", file_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer.await.unwrap();

    // The copy is a sound database holding at least the people written before it began.
    let copy = turnout_domain::db::Db::connect(&format!("sqlite://{file_arg}?mode=rw"), 1)
        .await
        .unwrap();
    assert!(copy.integrity_problems().await.unwrap().is_empty());
    use sea_orm::{EntityTrait, PaginatorTrait};
    let people = turnout_entity::people::Entity::find()
        .count(copy.conn())
        .await
        .unwrap();
    assert!((5..=45).contains(&people), "{people}");
    copy.close().await.unwrap();

    // A second backup to the same name is refused, not overwritten.
    let again = turnout(&app, &["backup", file_arg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // The server holds the database: restoring over it is refused and changes nothing.
    let before = app.count(turnout_entity::people::Entity).await;
    let out = turnout(&app, &["restore", file_arg]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Turnout is running"),
        "{out:?}"
    );
    assert_eq!(app.count(turnout_entity::people::Entity).await, before);
}
