//! Starts the real server on a fresh database for each test: a SQLite file in a temporary
//! directory, or, when `TEST_DATABASE_URL` names a PostgreSQL server, a new database on it
//! that is dropped afterwards.

use std::net::SocketAddr;

use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use turnout::{Role, ServeConfig};
use turnout_api::{ApiConfig, RateLimitConfig};
use turnout_domain::bootstrap;
use turnout_domain::db::Db;
use turnout_domain::outbound::OutboundPolicy;
use turnout_workers::WorkerConfig;
use turnout_workers::messaging::MessagingConfig;

/// The bearer token every test server's `/metrics` takes.
pub const METRICS_TOKEN: &str = "test-metrics-token";

pub struct TestApp {
    /// The database the server runs on (on SQLite its job queue sits beside it).
    pub database_url: String,
    pub base: String,
    pub client: reqwest::Client,
    /// The admin API key of the first organization.
    pub key: String,
    pub org_id: uuid::Uuid,
    pub db: Db,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// A fresh, migrated database: its URL, the temp dir holding it (SQLite) or the admin URL and
/// name to drop it by (PostgreSQL).
async fn fresh_database() -> (String, Option<tempfile::TempDir>, Option<(String, String)>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("turnout_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            (
                format!("{base}/{name}"),
                None,
                Some((admin_url.clone(), name)),
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}/turnout.db?mode=rwc", dir.path().display());
            (url, Some(dir), None)
        }
    }
}

/// The default API configuration without rate limits.
pub fn unlimited() -> ApiConfig {
    ApiConfig {
        rate_limits: RateLimitConfig {
            signups_per_ip_per_minute: 0,
            signups_per_form_per_minute: 0,
            requests_per_credential_per_minute: 0,
            logins_per_ip_per_minute: 0,
        },
        ..ApiConfig::default()
    }
}

impl TestApp {
    /// A server with the default limits, except rate limits (tests send bursts from one IP).
    pub async fn spawn() -> Self {
        Self::spawn_with(unlimited()).await
    }

    /// An API-only server: no job workers, so tests of the API see no background writes.
    pub async fn spawn_with(api: ApiConfig) -> Self {
        Self::spawn_role(
            api,
            Role::Api,
            WorkerConfig::default(),
            MessagingConfig::default(),
        )
        .await
    }

    /// A server running the API and the job workers (with `workers`' timing).
    pub async fn spawn_with_workers(workers: WorkerConfig) -> Self {
        Self::spawn_full(unlimited(), workers).await
    }

    /// A server running the API (configured by `api`) and the job workers.
    pub async fn spawn_full(api: ApiConfig, workers: WorkerConfig) -> Self {
        Self::spawn_role(api, Role::All, workers, MessagingConfig::default()).await
    }

    /// A server with job workers that send messages as `messaging` says.
    pub async fn spawn_with_messaging(workers: WorkerConfig, messaging: MessagingConfig) -> Self {
        Self::spawn_role(unlimited(), Role::All, workers, messaging).await
    }

    /// A server with job workers whose outbound calls (webhooks) may go to public addresses
    /// only, as in production: loopback receivers are refused.
    pub async fn spawn_public_outbound_only(workers: WorkerConfig) -> Self {
        Self::spawn_outbound(
            unlimited(),
            Role::All,
            workers,
            MessagingConfig::default(),
            OutboundPolicy::public_only(),
        )
        .await
    }

    /// A server with job workers, `api`'s configuration and `messaging`.
    pub async fn spawn_full_with_messaging(
        api: ApiConfig,
        workers: WorkerConfig,
        messaging: MessagingConfig,
    ) -> Self {
        Self::spawn_role(api, Role::All, workers, messaging).await
    }

    /// Tests receive webhooks on 127.0.0.1, which the operator allow-list admits.
    async fn spawn_role(
        api: ApiConfig,
        role: Role,
        workers: WorkerConfig,
        messaging: MessagingConfig,
    ) -> Self {
        let loopback = OutboundPolicy::allowing(["127.0.0.1"]);
        Self::spawn_outbound(api, role, workers, messaging, loopback).await
    }

    async fn spawn_outbound(
        api: ApiConfig,
        role: Role,
        workers: WorkerConfig,
        messaging: MessagingConfig,
        outbound: OutboundPolicy,
    ) -> Self {
        let (database_url, dir, pg) = fresh_database().await;
        let db = turnout::connect_and_migrate(&database_url, 8)
            .await
            .expect("migrate");
        let boot = bootstrap::create_organization(
            &db,
            "Test Campaign",
            "owner@example.org",
            Some("volunteer"),
        )
        .await
        .expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let config = ServeConfig {
            database_url: database_url.clone(),
            max_connections: 16,
            role,
            api,
            workers,
            messaging,
            outbound,
            bootstrap_org_name: "unused".into(),
            bootstrap_email: "unused@example.org".into(),
            public_links: None,
            metrics_token: Some(METRICS_TOKEN.into()),
        };
        let server = tokio::spawn(turnout::serve(config, listener, async move {
            rx.await.ok();
        }));
        TestApp {
            database_url,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            key: boot.api_key,
            org_id: boot.organization_id,
            db,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
            pg,
        }
    }

    /// Shuts the server down and waits until it has drained and let go of the database.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server");
        }
    }

    /// Another organization in the same deployment, with its admin key.
    pub async fn second_org(&self, form_slug: &str) -> (uuid::Uuid, String) {
        let boot = bootstrap::create_organization(
            &self.db,
            "Other Union",
            "other@example.org",
            Some(form_slug),
        )
        .await
        .expect("second org");
        (boot.organization_id, boot.api_key)
    }

    /// A new API key of the first organization with `scopes` (GraphQL enum names), made by
    /// the admin key through the API.
    pub async fn key_with(&self, scopes: &[&str]) -> String {
        let body = self
            .gql(
                "mutation($s: [ApiScope!]!) { createApiKey(name: \"test key\", scopes: $s) { token } }",
                json!({ "s": scopes }),
            )
            .await;
        data(&body)["createApiKey"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// POSTs a GraphQL operation, with `key` as bearer token if given. Returns status and body.
    pub async fn gql_as(&self, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    /// A GraphQL operation as the admin key; panics on a non-200 answer.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_as(Some(&self.key), query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A public (anonymous) GraphQL operation.
    pub async fn public(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_as(None, query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn count<E>(&self, _entity: E) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().count(self.db.conn()).await.expect("count")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread removes the DB.
            std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        admin.execute_unprepared(&sql).await.ok();
                        admin.close().await.ok();
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The data of a successful response; panics with the errors otherwise.
pub fn data(body: &Value) -> &Value {
    assert!(
        body.get("errors").is_none_or(|e| e.is_null()),
        "unexpected errors: {body}"
    );
    &body["data"]
}
