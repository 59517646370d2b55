//! `turnout backup` while sign-ups keep arriving, `turnout restore` refusing a live server and
//! bringing a backup back once it has stopped. On PostgreSQL both commands answer with the
//! pg_dump recipe instead.

use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::harness::{TestApp, data};
use crate::pipeline::fast;

const CREATE: &str =
    "mutation($e: String!) { createPerson(input: { firstName: \"W\", email: $e }) { id } }";

async fn create_people(app: &TestApp, prefix: &str, n: usize) {
    for i in 0..n {
        data(
            &app.gql(CREATE, json!({ "e": format!("{prefix}{i}@example.org") }))
                .await,
        );
    }
}

/// How many people the SQLite file at `file` holds, opened afresh (a restore replaces the file,
/// so a pool opened before it still reads the old one).
async fn people_in(file: &std::path::Path) -> u64 {
    let db = turnout_domain::db::Db::connect(&format!("sqlite://{}?mode=rw", file.display()), 1)
        .await
        .unwrap();
    assert!(db.integrity_problems().await.unwrap().is_empty());
    let people = turnout_entity::people::Entity::find()
        .count(db.conn())
        .await
        .unwrap();
    db.close().await.unwrap();
    people
}

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
    create_people(&app, "before", 5).await;
    // Writes go on while the backup runs.
    let writer = {
        let (client, base, key) = (app.client.clone(), app.base.clone(), app.key.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                let body = json!({ "query": CREATE, "variables": { "e": format!("during{i}@example.org") } });
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
    let people = people_in(&file).await;
    assert!((5..=45).contains(&people), "{people}");

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

#[tokio::test]
async fn a_stopped_deployment_is_restored_and_the_database_it_replaced_is_kept() {
    let mut app = TestApp::spawn_with_workers(fast()).await;
    let Some(target) = turnout_domain::db::sqlite_file(&app.database_url) else {
        return; // PostgreSQL: the recipe is checked above.
    };
    create_people(&app, "kept", 3).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nightly.db");
    let out = turnout(&app, &["backup", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("nightly.jobs.db").is_file(),
        "the queue is backed up beside it"
    );
    // Work after the backup, which the restore rolls back (and keeps aside).
    create_people(&app, "later", 2).await;
    app.stop().await;

    let out = turnout(&app, &["restore", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(people_in(&target).await, 3);

    // The replaced database and its queue are kept under names that sort beside their own.
    let aside: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".before-restore-"))
        .collect();
    let kept_db = aside
        .iter()
        .find(|n| n.starts_with("turnout.db.before-restore-"))
        .unwrap_or_else(|| panic!("{aside:?}"));
    assert!(stdout.contains(kept_db.as_str()), "{stdout}");
    assert!(
        aside
            .iter()
            .any(|n| n.starts_with("turnout.jobs.db.before-restore-")),
        "{aside:?}"
    );
    assert_eq!(people_in(&target.with_file_name(kept_db)).await, 5);
    assert!(!aside.iter().any(|n| n.ends_with(".restoring")));
}
