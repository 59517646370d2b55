//! The event pipeline end to end: a sign-up commits an outbox event, the relay queues it, a
//! worker dispatches it to a webhook receiver on loopback that verifies the signature; failures
//! retry with backoff, disable a failing endpoint, dead-letter a job, and retry it on request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{dead_letters, domain_events, webhook_endpoints};
use turnout_workers::{Backoff, WorkerConfig};

use crate::harness::{TestApp, data};

const SIGN_UP: &str = r#"mutation($input: SignUpInput!) {
    signUp(form: "volunteer", input: $input) { submissionId }
}"#;

/// Fast retries so tests see several attempts in a second.
pub(crate) fn fast() -> WorkerConfig {
    WorkerConfig {
        backoff: Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
        },
        schedules: false,
        ..WorkerConfig::default()
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: String,
}

/// What the receiver records, and the statuses it will answer.
type ReceiverState = (
    Arc<Mutex<Vec<Received>>>,
    Arc<Mutex<std::vec::IntoIter<u16>>>,
);

/// A webhook receiver on loopback. It answers the statuses in `script` in turn, then 200.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let state = (got.clone(), script);
        let app = axum::Router::new().route(
            "/hook",
            post(
                |axum::extract::State((got, script)): axum::extract::State<ReceiverState>,
                 headers: HeaderMap,
                 body: String| async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    got.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                        signature: header("webhook-signature"),
                        body,
                    });
                    let code = script.lock().unwrap().next().unwrap_or(200);
                    StatusCode::from_u16(code).unwrap()
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
        Self { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Polls `check` until it returns `Some`, for at most 15 s.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn create_endpoint(app: &TestApp, url: &str, kinds: &[&str]) -> (String, String) {
    let body = app
        .gql(
            r#"mutation($url: String!, $kinds: [String!]!) {
                createWebhookEndpoint(url: $url, eventKinds: $kinds) { endpoint { id } secret }
            }"#,
            json!({ "url": url, "kinds": kinds }),
        )
        .await;
    let created = &data(&body)["createWebhookEndpoint"];
    (
        created["endpoint"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// A server whose API and workers share the test process's plugin host, with fast retries.
async fn with_plugins() -> TestApp {
    TestApp::spawn_full(
        turnout_api::ApiConfig {
            plugin_host: Some(crate::plugin_support::host()),
            ..crate::harness::unlimited()
        },
        fast(),
    )
    .await
}

async fn sign_up(app: &TestApp, email: &str) {
    let body = app
        .public(
            SIGN_UP,
            json!({ "input": { "firstName": "Ana", "email": email } }),
        )
        .await;
    data(&body);
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let body = app
        .gql(
            r#"query($id: ID!) { webhookDeliveries(endpointId: $id) {
                nodes { id status attempts responseCode error replayOf eventId } totalCount } }"#,
            json!({ "id": endpoint }),
        )
        .await;
    let nodes = data(&body)["webhookDeliveries"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    // One page holds them all here, so the total is at least what it lists (a delivery may
    // be made between the list's read and the count's).
    let total = data(&body)["webhookDeliveries"]["totalCount"]
        .as_u64()
        .unwrap();
    assert!(total >= nodes.len() as u64, "{body}");
    nodes
}

#[tokio::test]
async fn a_sign_up_reaches_a_subscribed_webhook_signed_and_is_logged() {
    let app = TestApp::spawn_with_workers(fast()).await;
    let receiver = Receiver::start(vec![]).await;
    let (endpoint, secret) = create_endpoint(&app, &receiver.url, &["person.signed_up"]).await;
    let (_, other_secret) = create_endpoint(&app, &receiver.url, &["rsvp.created"]).await;

    sign_up(&app, "ana@example.org").await;

    let got = eventually("the delivery", || async {
        let got = receiver.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
    let first = &got[0];
    assert!(
        turnout_domain::webhooks::verify(
            &secret,
            &first.id,
            first.timestamp,
            &first.body,
            &first.signature
        ),
        "the signature verifies with the endpoint's secret"
    );
    assert!(
        !turnout_domain::webhooks::verify(
            &other_secret,
            &first.id,
            first.timestamp,
            &first.body,
            &first.signature
        ),
        "and not with another endpoint's"
    );
    let body: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["type"], "person.signed_up");
    assert!((chrono::Utc::now().timestamp() - first.timestamp).abs() < 60);

    let log = eventually("the delivery logged as delivered", || async {
        let log = deliveries(&app, &endpoint).await;
        (log.len() == 1 && log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    assert_eq!(log[0]["responseCode"], 200);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(
        first.id,
        format!("msg_{}", log[0]["id"].as_str().unwrap().replace('-', "")),
        "webhook-id names the delivery"
    );

    // The event is processed; the endpoint not subscribed to it got nothing.
    let event = domain_events::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(event.dispatched_at.is_some() && event.processed_at.is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1, "nothing else was sent");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_and_replay_sends_again() {
    let app = TestApp::spawn_with_workers(fast()).await;
    let receiver = Receiver::start(vec![500, 503]).await;
    let (endpoint, _) = create_endpoint(&app, &receiver.url, &["*"]).await;

    sign_up(&app, "bo@example.org").await;

    let log = eventually("delivery after two failures", || async {
        let log = deliveries(&app, &endpoint).await;
        (log.len() == 1 && log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    assert_eq!(log[0]["attempts"], 3);
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "retries keep the webhook-id"
    );

    // Replay: a new delivery of the same event, with its own id.
    let body = app
        .gql(
            r#"mutation($id: ID!) { replayWebhookDelivery(id: $id) { id replayOf status } }"#,
            json!({ "id": log[0]["id"] }),
        )
        .await;
    let replay = &data(&body)["replayWebhookDelivery"];
    assert_eq!(replay["replayOf"], log[0]["id"]);
    let got = eventually("the replay", || async {
        let got = receiver.received();
        (got.len() == 4).then_some(got)
    })
    .await;
    assert_ne!(got[3].id, got[0].id);
    assert_eq!(got[3].body, got[0].body, "the same event");

    // Another organization cannot replay it.
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            r#"mutation($id: ID!) { replayWebhookDelivery(id: $id) { id } }"#,
            json!({ "id": log[0]["id"] }),
        )
        .await;
    assert_eq!(crate::harness::error_code(&body), Some("NOT_FOUND"));
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_that_is_recorded() {
    let app = TestApp::spawn_with_workers(WorkerConfig {
        webhook_disable_after: 3,
        ..fast()
    })
    .await;
    let receiver = Receiver::start(vec![500; 100]).await;
    let (endpoint, _) = create_endpoint(&app, &receiver.url, &["person.signed_up"]).await;

    sign_up(&app, "cy@example.org").await;

    let row = eventually("the endpoint disabled", || async {
        let row = webhook_endpoints::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()?;
        (!row.enabled).then_some(row)
    })
    .await;
    assert!(row.disabled_at.is_some());
    assert_eq!(row.consecutive_failures, 3);
    let disabled = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("webhook_endpoint.disabled"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(disabled.len(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "no attempts after it was disabled"
    );

    // Enabling it again clears the count.
    let body = app
        .gql(
            r#"mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: true) { enabled consecutiveFailures disabledAt } }"#,
            json!({ "id": endpoint }),
        )
        .await;
    let updated = &data(&body)["updateWebhookEndpoint"];
    assert_eq!(updated["enabled"], true);
    assert_eq!(updated["consecutiveFailures"], 0);
    assert!(updated["disabledAt"].is_null());
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_dead_lettered_and_can_be_retried() {
    let app = TestApp::spawn_with_workers(fast()).await;
    // Break dispatch: the table it reads is gone (an infrastructure failure, not bad input).
    app.db
        .conn()
        .execute_unprepared("ALTER TABLE webhook_endpoints RENAME TO webhook_endpoints_away")
        .await
        .unwrap();

    sign_up(&app, "di@example.org").await;

    let dead = eventually("the dead letter", || async {
        dead_letters::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(dead.queue, "turnout.dispatch");
    assert_eq!(dead.attempts, 8);
    assert_eq!(dead.organization_id, Some(app.org_id));
    let body = app
        .gql(
            "{ deadLetters { nodes { id queue error attempts } totalCount } }",
            json!({}),
        )
        .await;
    let nodes = data(&body)["deadLetters"]["nodes"]
        .as_array()
        .unwrap()
        .len();
    assert!(nodes >= 1);
    // Another of the sign-up's events may die between the two reads.
    let total = data(&body)["deadLetters"]["totalCount"].as_u64().unwrap();
    assert!(total >= nodes as u64, "{body}");
    let listed = &data(&body)["deadLetters"]["nodes"][0];
    assert_eq!(listed["queue"], "turnout.dispatch");
    assert!(!listed["error"].as_str().unwrap().is_empty());

    // Repair, then retry through the API: the event gets processed.
    app.db
        .conn()
        .execute_unprepared("ALTER TABLE webhook_endpoints_away RENAME TO webhook_endpoints")
        .await
        .unwrap();
    let body = app
        .gql(
            r#"mutation($id: ID!) { retryDeadLetter(id: $id) { id retryRequestedAt } }"#,
            json!({ "id": dead.id.to_string() }),
        )
        .await;
    assert!(!data(&body)["retryDeadLetter"]["retryRequestedAt"].is_null());
    eventually("the event processed after the retry", || async {
        let event = domain_events::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()?;
        event.processed_at.map(|_| ())
    })
    .await;
    let dead = dead_letters::Entity::find_by_id(dead.id)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(dead.retried_at.is_some());

    // A second retry of the same dead letter is a conflict, not a second run.
    let body = app
        .gql(
            r#"mutation($id: ID!) { retryDeadLetter(id: $id) { id } }"#,
            json!({ "id": dead.id.to_string() }),
        )
        .await;
    assert_eq!(crate::harness::error_code(&body), Some("CONFLICT"));
}

#[tokio::test]
async fn webhook_input_is_validated() {
    let app = TestApp::spawn().await;
    for (url, kinds) in [
        ("ftp://example.org", json!(["*"])),
        ("https://example.org/hook", json!([])),
        ("https://example.org/hook", json!(["Not A Kind"])),
    ] {
        let body = app
            .gql(
                r#"mutation($url: String!, $kinds: [String!]!) {
                    createWebhookEndpoint(url: $url, eventKinds: $kinds) { secret } }"#,
                json!({ "url": url, "kinds": kinds }),
            )
            .await;
        assert_eq!(
            crate::harness::error_code(&body),
            Some("VALIDATION"),
            "{url} {kinds}"
        );
    }
    // A key without WEBHOOKS_WRITE may not create endpoints.
    let key = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&key),
            r#"mutation { createWebhookEndpoint(url: "https://example.org", eventKinds: ["*"]) { secret } }"#,
            json!({}),
        )
        .await;
    assert_eq!(crate::harness::error_code(&body), Some("FORBIDDEN"));
}

#[tokio::test]
async fn a_sign_up_runs_its_automation_through_the_workers() {
    use crate::plugin_support::{create_automation, install, owner_of};
    use turnout_entity::{automation_runs, people, taggings, tags};

    let app = with_plugins().await;
    let version = install(&app, "welcome-volunteer").await;
    let owner = owner_of(&app, app.org_id).await;
    create_automation(
        &app,
        json!({
            "name": "Welcome",
            "pluginVersionId": version,
            "triggerKinds": ["person.signed_up"],
            "config": { "tag": "welcomed", "point_people": [owner.to_string()], "follow_up_days": 2 },
        }),
    )
    .await;

    sign_up(&app, "ed@example.org").await;

    let run = eventually("the automation run", || async {
        automation_runs::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    let person = people::Entity::find()
        .filter(people::Column::Email.eq("ed@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.point_person_user_id, Some(owner));
    let welcomed = tags::Entity::find()
        .filter(tags::Column::Name.eq("welcomed"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the tag");
    let tagged = taggings::Entity::find()
        .filter(taggings::Column::TagId.eq(welcomed.id))
        .filter(taggings::Column::PersonId.eq(person.id))
        .one(app.db.conn())
        .await
        .unwrap();
    assert!(tagged.is_some());
    // The sign-up and everything its effects caused are processed; still one run.
    eventually("every event processed", || async {
        let pending = domain_events::Entity::find()
            .filter(domain_events::Column::ProcessedAt.is_null())
            .one(app.db.conn())
            .await
            .unwrap();
        pending.is_none().then_some(())
    })
    .await;
    assert_eq!(
        automation_runs::Entity::find()
            .all(app.db.conn())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_public_rsvp_gets_a_confirmation_email_with_its_calendar_invite() {
    use crate::events::{create_event, event_input};
    use crate::support::smtp::SmtpServer;
    use turnout_entity::messages;

    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(10))).await;
    let body = app
        .public(
            r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status token } }"#,
            json!({ "s": shift, "i": { "firstName": "Fay", "email": "fay@example.org" } }),
        )
        .await;
    let token = data(&body)["rsvp"]["token"].as_str().unwrap().to_owned();

    let mail = eventually("the confirmation email", || async {
        smtp.mails().into_iter().next()
    })
    .await;
    assert_eq!(mail.to, ["fay@example.org"]);
    assert!(mail.data.contains("BEGIN:VCALENDAR"), "{}", mail.data);
    assert!(mail.data.contains("invite.ics"), "{}", mail.data);
    // The attached invite is the one served at the RSVP's link.
    let served = app
        .client
        .get(format!("{}/ics/{token}.ics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let uid = served
        .lines()
        .find(|l| l.starts_with("UID:"))
        .expect("a UID")
        .to_owned();
    assert!(mail.data.contains(&uid), "{uid} in {}", mail.data);
    let sent = eventually("the message marked sent", || async {
        messages::Entity::find()
            .filter(messages::Column::Status.eq("sent"))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(sent.channel, "email");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails().len(), 1, "sent once");
}

/// The `referral-thanks` example against the real stream: a sign-up with a referral code
/// records `person.referred` (it was documented and never emitted), the worker runs the plugin,
/// and its thank-you reaches the referrer's queue.
#[tokio::test]
async fn a_referred_sign_up_thanks_the_referrer_through_the_workers() {
    use crate::plugin_support::{create_automation, install};
    use turnout_entity::{automation_runs, messages, people};

    let app = with_plugins().await;
    let version = install(&app, "referral-thanks").await;
    create_automation(
        &app,
        json!({
            "name": "Thanks",
            "pluginVersionId": version,
            "triggerKinds": ["person.referred"],
            "config": {},
        }),
    )
    .await;
    const REFERRED: &str = r#"mutation($input: SignUpInput!) {
        signUp(form: "volunteer", input: $input) { referralCode }
    }"#;
    let body = app
        .public(
            REFERRED,
            json!({ "input": { "firstName": "Ada", "email": "ada@example.org" } }),
        )
        .await;
    let code = data(&body)["signUp"]["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();
    data(
        &app.public(
            REFERRED,
            json!({ "input": { "firstName": "Grace", "email": "grace@example.org", "referralCode": code } }),
        )
        .await,
    );

    let run = eventually("the automation run", || async {
        automation_runs::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()
            .filter(|r| r.status != "running")
    })
    .await;
    assert_eq!(run.status, "succeeded", "{:?}", run.error);
    let ada = people::Entity::find()
        .filter(people::Column::Email.eq("ada@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    let thanks = eventually("the thank-you message", || async {
        messages::Entity::find()
            .filter(messages::Column::PersonId.eq(ada.id))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert!(
        thanks
            .body
            .contains("Thank you, Ada, for bringing Grace into the campaign!"),
        "{}",
        thanks.body
    );
    assert_eq!(thanks.to_address, "ada@example.org");
}

/// The SSRF guard (issue 17, item 3), with the production policy (no allow-list): no spelling
/// of an internal address can be saved as a webhook URL, and an internal URL already in the
/// database (saved before the guard, or a name that resolves to loopback) is refused when the
/// worker dials. The listener on 127.0.0.1 receives nothing.
#[tokio::test]
async fn webhooks_never_reach_an_internal_address_in_any_spelling() {
    use sea_orm::{ActiveModelTrait, Set};
    use turnout_entity::webhook_deliveries;

    let receiver = Receiver::start(vec![]).await;
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hook");
    let app = TestApp::spawn_public_outbound_only(fast()).await;
    let spellings = [
        "127.0.0.1",
        "127.1",
        "127.0.0.2",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "017700000001",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "localhost",
        "LOCALHOST.",
        "0.0.0.0",
        "0",
        "10.0.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "[fd00:ec2::254]",
        "metadata.google.internal",
    ];
    for host in spellings {
        let url = format!("http://{host}:{port}/hook");
        let body = app
            .gql(
                r#"mutation($url: String!) { createWebhookEndpoint(url: $url, eventKinds: ["*"]) { secret } }"#,
                json!({ "url": url }),
            )
            .await;
        assert_eq!(
            crate::harness::error_code(&body),
            Some("VALIDATION"),
            "{url}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "input.url",
            "{body}"
        );
    }
    assert_eq!(app.count(webhook_endpoints::Entity).await, 0);

    // Rows the guard never saw: a loopback literal and a name that resolves to loopback.
    let mut endpoints = Vec::new();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hook"),
    ] {
        let now = chrono::Utc::now();
        let row = webhook_endpoints::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            organization_id: Set(app.org_id),
            url: Set(url),
            secret: Set(format!("whsec_{}", "A".repeat(32))),
            event_kinds: Set(json!(["*"])),
            enabled: Set(true),
            consecutive_failures: Set(0),
            disabled_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            description: Set(None),
        }
        .insert(app.db.conn())
        .await
        .unwrap();
        endpoints.push(row.id);
    }
    sign_up(&app, "ssrf@example.org").await;
    for endpoint in endpoints {
        let attempt = eventually("the refused attempt", || async {
            webhook_deliveries::Entity::find()
                .filter(webhook_deliveries::Column::EndpointId.eq(endpoint))
                .one(app.db.conn())
                .await
                .unwrap()
                .filter(|d| d.attempts > 0)
        })
        .await;
        let error = attempt.error.unwrap_or_default();
        assert!(error.starts_with("refused:"), "{error}");
        assert_eq!(attempt.response_body, None);
    }
    assert!(
        receiver.received().is_empty(),
        "the internal listener was reached"
    );
}

/// Finished jobs leave apalis' job table once the retention has passed, and jobs still to run
/// stay. The finished jobs are real: the dispatch of three sign-ups' events.
#[tokio::test]
async fn finished_jobs_leave_the_queue_and_waiting_ones_stay() {
    use turnout_workers::jobs::{Envelope, Job};
    use turnout_workers::queue::JobQueue;
    use turnout_workers::retention::FINISHED_JOB_RETENTION;

    let app = TestApp::spawn_with_workers(fast()).await;
    for n in 0..3 {
        sign_up(&app, &format!("prune{n}@example.org")).await;
    }
    let queue = JobQueue::open(&app.db, &app.database_url).await.unwrap();
    let count = |finished: bool| {
        let queue = queue.clone();
        async move {
            let table = match &queue {
                JobQueue::Sqlite(_) => "Jobs",
                JobQueue::Postgres(_) => "apalis.jobs",
            };
            let not = if finished { "" } else { "NOT " };
            let sql =
                format!("SELECT COUNT(*) FROM {table} WHERE {not}status IN ('Done', 'Killed')");
            let n: i64 = match &queue {
                JobQueue::Sqlite(pool) => {
                    sea_orm::sqlx::query_scalar(sea_orm::sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_one(pool)
                        .await
                        .unwrap()
                }
                JobQueue::Postgres(pool) => {
                    sea_orm::sqlx::query_scalar(sea_orm::sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_one(pool)
                        .await
                        .unwrap()
                }
            };
            n
        }
    };
    // Every job of the sign-ups finished (acknowledged to the queue, which comes just after
    // the event is marked processed).
    let finished = eventually("the sign-ups' jobs finished", || async {
        let finished = count(true).await;
        (finished >= 3 && count(false).await == 0).then_some(finished)
    })
    .await;
    // A delivery due in an hour: waiting, never finished here.
    let later = Envelope::new(
        Job::DeliverMessage {
            message_id: uuid::Uuid::now_v7(),
        },
        Some(app.org_id),
    );
    queue
        .push(later, Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    let waiting = count(false).await;
    assert!(
        finished >= 3,
        "each sign-up's dispatch finished: {finished}"
    );
    assert!(waiting >= 1, "the delivery for later waits");

    // Within the retention nothing goes.
    assert_eq!(
        queue.prune_finished(FINISHED_JOB_RETENTION).await.unwrap(),
        0
    );
    assert_eq!(count(true).await, finished);
    // Past it (done_at has whole seconds), the finished ones go, and only they.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pruned = queue.prune_finished(Duration::ZERO).await.unwrap();
    assert_eq!(pruned, u64::try_from(finished).unwrap());
    assert_eq!(count(true).await, 0);
    assert_eq!(count(false).await, waiting);
}
