//! The live feed over WebSocket (`/graphql/ws`, graphql-ws protocol), through the real server,
//! with a hand-written graphql-ws client.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use turnout_domain::auth;
use turnout_domain::db::Db;
use turnout_domain::outbox;
use turnout_entity::people;

use turnout_api::ApiConfig;

use crate::harness::{TestApp, data, unlimited};

const FEED: &str = "subscription($kinds: [String!]) {
    domainEvents(kinds: $kinds) {
        id kind subjectType subjectId subjectNodeId payload occurredAt
    }
}";

const SIGN_UP: &str = "mutation($form: String!, $input: SignUpInput!) {
    signUp(form: $form, input: $input) { submissionId }
}";

/// How long a test waits for an event that should arrive.
const ARRIVES: Duration = Duration::from_secs(5);
/// How long a test waits to be sure an event does not arrive.
const QUIET: Duration = Duration::from_millis(1500);

#[derive(Debug)]
enum Received {
    Message(Value),
    Closed(u16, String),
    Nothing,
}

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(app: &TestApp) -> Self {
        let url = format!("{}/graphql/ws", app.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Client { ws }
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next graphql-ws message (answering pings), the close frame, or nothing within
    /// `within`.
    async fn recv(&mut self, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Received::Nothing,
                Ok(None) | Ok(Some(Err(_))) => return Received::Closed(1006, String::new()),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Received::Message(message);
                }
                Message::Close(frame) => {
                    return match frame {
                        Some(f) => Received::Closed(f.code.into(), f.reason.to_string()),
                        None => Received::Closed(1005, String::new()),
                    };
                }
                _ => {}
            }
        }
    }

    /// `connection_init` with `payload`; returns what the server answered.
    async fn init(&mut self, payload: Value) -> Received {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.recv(ARRIVES).await
    }

    /// A connection authenticated with `key`.
    async fn authenticated(app: &TestApp, key: &str) -> Self {
        let mut client = Self::connect(app).await;
        match client
            .init(json!({ "Authorization": format!("Bearer {key}") }))
            .await
        {
            Received::Message(m) if m["type"] == "connection_ack" => client,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Starts subscription `id` to the feed, filtered by `kinds`, and gives the server a
    /// moment to register it (graphql-ws does not acknowledge a subscribe).
    async fn subscribe(&mut self, id: &str, kinds: Option<&[&str]>) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": FEED, "variables": { "kinds": kinds } }
        }))
        .await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    /// The next `next` message's event for subscription `id`; panics on anything else.
    async fn next_event(&mut self, id: &str) -> Value {
        match self.recv(ARRIVES).await {
            Received::Message(m) if m["type"] == "next" && m["id"] == id => {
                data(&m["payload"])["domainEvents"].clone()
            }
            other => panic!("expected an event for subscription {id}, got {other:?}"),
        }
    }

    /// Asserts that nothing arrives for a while.
    async fn assert_quiet(&mut self) {
        match self.recv(QUIET).await {
            Received::Nothing => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}

async fn sign_up(app: &TestApp, form: &str, email: &str) {
    let body = app
        .public(
            SIGN_UP,
            json!({ "form": form, "input": { "firstName": "Live", "email": email } }),
        )
        .await;
    data(&body);
}

async fn person_id(app: &TestApp, email: &str) -> uuid::Uuid {
    people::Entity::find()
        .filter(people::Column::Email.eq(email))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the person")
        .id
}

#[tokio::test]
async fn a_committed_sign_up_reaches_a_subscriber_of_its_organization() {
    let app = TestApp::spawn().await;
    let mut client = Client::authenticated(&app, &app.key).await;
    client.subscribe("1", Some(&["person.signed_up"])).await;

    sign_up(&app, "volunteer", "live@example.org").await;

    let event = client.next_event("1").await;
    let person = person_id(&app, "live@example.org").await;
    assert_eq!(event["kind"], "person.signed_up");
    assert_eq!(event["subjectType"], "person");
    assert_eq!(event["subjectId"], person.to_string());
    assert!(event["subjectNodeId"].is_string());
    assert_eq!(event["payload"]["created"], json!(true));
    assert!(event["occurredAt"].is_string());
    client.assert_quiet().await;
}

#[tokio::test]
async fn a_subscriber_never_sees_another_organizations_events() {
    let app = TestApp::spawn().await;
    let (_, other_key) = app.second_org("other-volunteer").await;
    let mut ours = Client::authenticated(&app, &app.key).await;
    let mut theirs = Client::authenticated(&app, &other_key).await;
    ours.subscribe("1", None).await;
    theirs.subscribe("1", None).await;

    sign_up(&app, "volunteer", "ours@example.org").await;
    assert_eq!(ours.next_event("1").await["kind"], "person.signed_up");
    theirs.assert_quiet().await;

    // Their feed works: their own sign-up reaches them, and not us.
    sign_up(&app, "other-volunteer", "theirs@example.org").await;
    let event = theirs.next_event("1").await;
    assert_eq!(
        event["subjectId"],
        person_id(&app, "theirs@example.org").await.to_string()
    );
    ours.assert_quiet().await;
}

#[tokio::test]
async fn without_a_valid_credential_the_connection_is_refused() {
    let app = TestApp::spawn().await;
    for payload in [
        json!({}),
        json!({ "Authorization": "Bearer tn_not_a_real_key" }),
        json!({ "Authorization": "Bearer not.a.jwt" }),
        json!({ "Authorization": format!("Basic {}", app.key) }),
    ] {
        let mut client = Client::connect(&app).await;
        match client.init(payload.clone()).await {
            Received::Closed(code, reason) => {
                assert_eq!(code, 1002, "{payload}");
                assert!(reason.starts_with("UNAUTHENTICATED"), "{reason}");
            }
            other => panic!("{payload}: expected the socket closed, got {other:?}"),
        }
    }

    // Subscribing without connection_init gets no data either.
    let mut client = Client::connect(&app).await;
    client
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": FEED } }))
        .await;
    sign_up(&app, "volunteer", "early@example.org").await;
    match client.recv(ARRIVES).await {
        Received::Closed(..) => {}
        other => panic!("expected the socket closed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_credential_without_read_scopes_gets_an_error_and_no_data() {
    let app = TestApp::spawn().await;
    let forms_key = app.key_with(&["FORMS_WRITE"]).await;
    let events_key = app.key_with(&["EVENTS_READ"]).await;

    let mut client = Client::authenticated(&app, &forms_key).await;
    client.subscribe("1", None).await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" => {
            assert_eq!(m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN");
            assert!(m["payload"]["data"].is_null(), "{m}");
        }
        other => panic!("expected an error, got {other:?}"),
    }

    // events:read may watch RSVPs but not sign-ups: asking for them is refused, and an
    // unfiltered feed leaves them out.
    let mut client = Client::authenticated(&app, &events_key).await;
    client.subscribe("1", Some(&["person.signed_up"])).await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" => {
            assert_eq!(m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let mut client = Client::authenticated(&app, &events_key).await;
    client.subscribe("2", None).await;
    sign_up(&app, "volunteer", "hidden@example.org").await;
    client.assert_quiet().await;
}

#[tokio::test]
async fn the_kind_filter_leaves_other_kinds_out() {
    let app = TestApp::spawn().await;
    let mut client = Client::authenticated(&app, &app.key).await;
    client
        .subscribe("checkins", Some(&["shift.checked_in"]))
        .await;
    client
        .subscribe("signups", Some(&["person.signed_up"]))
        .await;

    sign_up(&app, "volunteer", "filtered@example.org").await;

    let event = client.next_event("signups").await;
    assert_eq!(event["kind"], "person.signed_up");
    // Nothing for the check-in subscription.
    client.assert_quiet().await;

    // Queries and mutations are for POST /graphql.
    client
        .send(json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ __typename }" } }))
        .await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" && m["id"] == "q" => {
            assert_eq!(
                m["payload"]["errors"][0]["extensions"]["code"],
                "VALIDATION"
            );
            assert!(m["payload"]["data"].is_null(), "{m}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_with_too_many_aliases_is_refused() {
    let app = TestApp::spawn().await;
    let mut client = Client::authenticated(&app, &app.key).await;
    let aliased = |n: usize| -> String { (0..n).map(|i| format!("a{i}: kind ")).collect() };
    // The default limit is 30 aliased fields: 31 are refused before anything runs.
    let query = format!("subscription {{ domainEvents {{ {} }} }}", aliased(31));
    client
        .send(json!({ "id": "many", "type": "subscribe", "payload": { "query": query } }))
        .await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" && m["id"] == "many" => {
            assert_eq!(
                m["payload"]["errors"][0]["extensions"]["code"], "VALIDATION",
                "{m}"
            );
            assert!(m["payload"]["data"].is_null(), "{m}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "complete" && m["id"] == "many" => {}
        other => panic!("expected the refused subscription to complete, got {other:?}"),
    }
    // 30 are within the limit: the subscription runs and delivers.
    let query = format!("subscription {{ domainEvents {{ {} }} }}", aliased(30));
    client
        .send(json!({ "id": "ok", "type": "subscribe", "payload": { "query": query } }))
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    sign_up(&app, "volunteer", "aliases@example.org").await;
    let event = client.next_event("ok").await;
    assert_eq!(event["a29"], "person.signed_up");
}

#[tokio::test]
async fn a_subscription_nested_too_deep_is_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let mut client = Client::authenticated(&app, &app.key).await;
    let deep = format!("{}1{}", "[".repeat(1_800), "]".repeat(1_800));
    let query = format!("subscription {{ domainEvents(kinds: {deep}) {{ kind }} }}");
    client
        .send(json!({ "id": "deep", "type": "subscribe", "payload": { "query": query } }))
        .await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" && m["id"] == "deep" => {
            assert_eq!(
                m["payload"]["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
                "{m}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "complete" && m["id"] == "deep" => {}
        other => panic!("expected the refused subscription to complete, got {other:?}"),
    }
    // The connection (and the process) carry on.
    client.subscribe("ok", None).await;
    sign_up(&app, "volunteer", "deep@example.org").await;
    let event = client.next_event("ok").await;
    assert_eq!(event["kind"], "person.signed_up");
}

/// An event committed by another process's connection reaches the subscriber: on PostgreSQL
/// through LISTEN/NOTIFY, on SQLite because the hub polls the shared database file.
#[tokio::test]
async fn an_event_committed_by_another_connection_reaches_the_subscriber() {
    let app = TestApp::spawn().await;
    let mut client = Client::authenticated(&app, &app.key).await;
    client.subscribe("1", Some(&["person.signed_up"])).await;

    let other = Db::connect(&app.database_url, 1).await.unwrap();
    let scope = auth::authenticate(&other, &app.key)
        .await
        .unwrap()
        .can::<auth::perm::PeopleWrite>()
        .unwrap();
    let subject = uuid::Uuid::now_v7();
    let txn = other.begin_write().await.unwrap();
    let signed_up = outbox::DomainEvent::PersonSignedUp {
        person_id: subject,
        form_id: uuid::Uuid::now_v7(),
        form_slug: "another-process".into(),
        submission_id: uuid::Uuid::now_v7(),
        created: true,
        referred_by_person_id: None,
        tags: vec![],
    };
    let id = outbox::record(&txn, &scope, signed_up).await.unwrap();
    // Nothing is delivered before the commit.
    client.assert_quiet().await;
    txn.commit().await.unwrap();

    let event = client.next_event("1").await;
    assert_eq!(event["id"], id.to_string());
    assert_eq!(event["subjectId"], subject.to_string());
    assert_eq!(event["payload"]["form_slug"], "another-process");
    other.close().await.unwrap();
}

#[tokio::test]
async fn revoking_the_key_ends_its_subscriptions() {
    // Re-check the credential before every event.
    let app = TestApp::spawn_with(ApiConfig {
        live_recheck: Duration::ZERO,
        ..unlimited()
    })
    .await;
    let key = app.key_with(&["PEOPLE_READ"]).await;
    let mut client = Client::authenticated(&app, &key).await;
    client.subscribe("1", Some(&["person.signed_up"])).await;
    sign_up(&app, "volunteer", "before@example.org").await;
    assert_eq!(client.next_event("1").await["kind"], "person.signed_up");

    let body = app.gql("{ apiKeys { id name } }", json!({})).await;
    let id = data(&body)["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "test key")
        .unwrap()["id"]
        .clone();
    data(
        &app.gql(
            "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            json!({ "id": id }),
        )
        .await,
    );
    sign_up(&app, "volunteer", "after@example.org").await;
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "next" => {
            assert_eq!(
                m["payload"]["errors"][0]["extensions"]["code"],
                "UNAUTHENTICATED"
            );
            assert!(m["payload"]["data"].is_null(), "{m}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    match client.recv(ARRIVES).await {
        Received::Message(m) if m["type"] == "complete" => {}
        other => panic!("expected the subscription complete, got {other:?}"),
    }
}
