//! Worker processes: `turnout serve --role worker` processes pulling from one queue, and a
//! worker killed with SIGKILL in the middle of jobs and restarted. Every event is processed and
//! every delivery made; with two healthy workers, each job runs once.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use turnout_entity::{domain_events, webhook_deliveries};

use crate::harness::{TestApp, data};

/// A `turnout serve --role worker` process on the test's database.
fn worker(app: &TestApp) -> Child {
    Command::new(env!("CARGO_BIN_EXE_turnout"))
        .arg("serve")
        .env("DATABASE_URL", &app.database_url)
        .env("TURNOUT_ROLE", "worker")
        .env("TURNOUT_LISTEN", "127.0.0.1:0")
        .env("TURNOUT_DB_MAX_CONNECTIONS", "8")
        // The tests' webhook receivers listen on loopback, which only the allow-list admits.
        .env("TURNOUT_OUTBOUND_ALLOW", "127.0.0.1")
        .env(
            "RUST_LOG",
            std::env::var("TURNOUT_TEST_WORKER_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stderr(Stdio::null())
        .stdout(match std::env::var("TURNOUT_TEST_WORKER_LOG") {
            Ok(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            Err(_) => Stdio::null(),
        })
        .spawn()
        .expect("start a worker process")
}

/// A receiver that takes `delay` to answer 200 and counts requests per `webhook-id`.
async fn slow_receiver(delay: Duration) -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap| {
            let seen = state.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                *seen.lock().unwrap().entry(id).or_default() += 1;
                tokio::time::sleep(delay).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn setup(app: &TestApp, url: &str, people: usize) {
    let body = app
        .gql(
            r#"mutation($url: String!) { createWebhookEndpoint(url: $url, eventKinds: ["*"]) { secret } }"#,
            json!({ "url": url }),
        )
        .await;
    data(&body);
    for i in 0..people {
        let body = app
            .public(
                r#"mutation($input: SignUpInput!) { signUp(form: "volunteer", input: $input) { submissionId } }"#,
                json!({ "input": { "firstName": "W", "email": format!("w{i}@example.org") } }),
            )
            .await;
        data(&body);
    }
}

/// Waits until every event is processed and every delivery delivered, while `workers` stay up.
async fn wait_until_all_done(
    app: &TestApp,
    workers: &mut [&mut Child],
    people: u64,
    limit: Duration,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        for w in workers.iter_mut() {
            if let Ok(Some(status)) = w.try_wait() {
                panic!("a worker process exited: {status}");
            }
        }
        let unprocessed = domain_events::Entity::find()
            .filter(domain_events::Column::ProcessedAt.is_null())
            .count(app.db.conn())
            .await
            .unwrap();
        let delivered = webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::Status.eq("delivered"))
            .count(app.db.conn())
            .await
            .unwrap();
        if unprocessed == 0 && delivered == people {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not done in time: {unprocessed} events unprocessed, {delivered}/{people} delivered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_worker_processes_run_each_job_once() {
    const PEOPLE: usize = 30;
    let app = TestApp::spawn().await;
    let (url, seen) = slow_receiver(Duration::from_millis(20)).await;
    let mut a = worker(&app);
    let mut b = worker(&app);
    setup(&app, &url, PEOPLE).await;
    wait_until_all_done(
        &app,
        &mut [&mut a, &mut b],
        PEOPLE as u64,
        Duration::from_secs(60),
    )
    .await;
    a.kill().ok();
    b.kill().ok();
    a.wait().ok();
    b.wait().ok();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), PEOPLE, "one delivery per sign-up");
    assert!(
        seen.values().all(|n| *n == 1),
        "each delivered once: {seen:?}"
    );
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing() {
    const PEOPLE: usize = 20;
    let app = TestApp::spawn().await;
    let (url, seen) = slow_receiver(Duration::from_millis(400)).await;
    let mut first = worker(&app);
    setup(&app, &url, PEOPLE).await;
    // Kill it while requests are in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first worker never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().ok();
    // Requests already on the wire when the process died still reach the receiver: let them
    // land before counting what the first worker sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let in_flight_at_kill = seen.lock().unwrap().len();
    assert!(in_flight_at_kill < PEOPLE, "the kill came before the end");

    let mut second = worker(&app);
    wait_until_all_done(
        &app,
        &mut [&mut second],
        PEOPLE as u64,
        Duration::from_secs(60),
    )
    .await;
    second.kill().ok();
    second.wait().ok();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), PEOPLE, "every sign-up was delivered");
    // A request cut off by the kill is sent again (receivers deduplicate by webhook-id); no
    // other delivery is repeated.
    let repeated = seen.values().filter(|n| **n > 1).count();
    assert!(
        repeated <= in_flight_at_kill,
        "{repeated} repeated, {in_flight_at_kill} in flight"
    );
}
