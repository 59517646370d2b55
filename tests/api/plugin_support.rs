//! Plugins for the API tests: the guest plugins built from source once per test process (as
//! the plugin host's own tests do), one plugin host per process, and helpers to install
//! plugins and create automations through GraphQL.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use turnout_entity::{domain_events, memberships};
use turnout_plugin_host::{AutomationRunner, Limits, PluginHost};
use uuid::Uuid;

use crate::harness::{TestApp, data, unlimited};

fn guest_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("wasm-guests")
}

/// Builds every guest plugin for wasm32-wasip2 (once per process); their directory.
fn guests_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target_dir = guest_target_dir();
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plugins/guests/Cargo.toml");
        let status = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .status()
            .expect(
                "run cargo build for the guest plugins (needs `rustup target add wasm32-wasip2`)",
            );
        assert!(
            status.success(),
            "building the guest plugins failed ({status})"
        );
        target_dir.join("wasm32-wasip2/release")
    })
}

/// The bytes of a guest plugin by crate name (`welcome-volunteer`, `test-trap` …).
pub fn wasm(name: &str) -> Vec<u8> {
    let path = guests_dir().join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// One plugin host per test process (compiled artifacts cached on disk across processes).
pub fn host() -> Arc<PluginHost> {
    static HOST: OnceLock<Arc<PluginHost>> = OnceLock::new();
    HOST.get_or_init(|| {
        Arc::new(
            PluginHost::new(Limits {
                cache_dir: Some(guest_target_dir().join("host-artifacts")),
                ..Limits::default()
            })
            .expect("plugin host"),
        )
    })
    .clone()
}

/// A server whose API shares the test process's plugin host.
pub async fn spawn() -> TestApp {
    TestApp::spawn_with(turnout_api::ApiConfig {
        plugin_host: Some(host()),
        ..unlimited()
    })
    .await
}

/// The runner the workers would use, on the app's database.
pub fn runner(app: &TestApp) -> AutomationRunner {
    AutomationRunner::new(app.db.clone(), host())
}

pub const INSTALL: &str = "mutation($name: String, $component: String!) {
    installPlugin(name: $name, component: $component) {
        plugin { id name }
        version { id version handles requestedCapabilities contractVersion sha256 sizeBytes }
    }
}";

/// Installs a guest plugin as `key`; the GraphQL answer.
pub async fn install_as(app: &TestApp, key: &str, name: &str) -> (u16, Value) {
    let component = base64::engine::general_purpose::STANDARD.encode(wasm(name));
    app.gql_as(Some(key), INSTALL, json!({ "component": component }))
        .await
}

/// Installs a guest plugin as the admin; the version id.
pub async fn install(app: &TestApp, name: &str) -> String {
    let (status, body) = install_as(app, &app.key, name).await;
    assert_eq!(status, 200, "{body}");
    data(&body)["installPlugin"]["version"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const CREATE: &str = "mutation($input: CreateAutomationInput!) {
    createAutomation(input: $input) { id name triggerKinds grantedCapabilities enabled config }
}";

/// Creates an automation as `key` (GraphQL `CreateAutomationInput`); its id.
pub async fn create_automation_as(app: &TestApp, key: &str, input: Value) -> String {
    let (status, body) = app
        .gql_as(Some(key), CREATE, json!({ "input": input }))
        .await;
    assert_eq!(status, 200, "{body}");
    data(&body)["createAutomation"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn create_automation(app: &TestApp, input: Value) -> String {
    create_automation_as(app, &app.key, input).await
}

/// The owner user of an organization.
pub async fn owner_of(app: &TestApp, org: Uuid) -> Uuid {
    memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(org))
        .filter(memberships::Column::Role.eq("owner"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("owner")
        .user_id
}

/// Records a domain event directly (as some domain service would).
pub async fn record_event(
    app: &TestApp,
    org: Uuid,
    kind: &str,
    subject: Uuid,
    payload: Value,
    depth: i32,
) -> Uuid {
    let id = Uuid::now_v7();
    domain_events::ActiveModel {
        id: Set(id),
        organization_id: Set(org),
        kind: Set(kind.into()),
        subject_type: Set("person".into()),
        subject_id: Set(subject),
        payload: Set(payload),
        occurred_at: Set(Utc::now()),
        causation_id: Set(None),
        depth: Set(depth),
        dispatched_at: Set(None),
        processed_at: Set(None),
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    id
}

pub const SIGN_UP: &str = "mutation($form: String!, $input: SignUpInput!) {
    signUp(form: $form, input: $input) { submissionId }
}";

/// Signs a person up through the public form `form`; the `person.signed_up` event and the
/// person's id.
pub async fn sign_up(app: &TestApp, form: &str, input: Value) -> (Uuid, Uuid) {
    let before: Vec<Uuid> = domain_events::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    let body = app
        .public(SIGN_UP, json!({ "form": form, "input": input }))
        .await;
    data(&body);
    let event = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("person.signed_up"))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|e| !before.contains(&e.id))
        .expect("a person.signed_up event");
    (event.id, event.subject_id)
}
