//! Shared by the host's integration tests and benchmark: builds the guest plugins from source
//! (once per process) and provides one host and fixture data.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

pub mod js;

use chrono::{DateTime, Utc};
use turnout_plugin_host::{
    Event, FixtureReadModel, Grants, Limits, LoadedPlugin, PluginHost, RunInput, RunOutcome,
};
use uuid::Uuid;

/// The organization the fixtures live in.
pub const ORG: Uuid = FixtureReadModel::DEFAULT_ORG;
/// Another organization, whose people no plugin running for `ORG` may see.
pub const OTHER_ORG: Uuid = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0002);

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where the guests are built: `$CARGO_TARGET_DIR/wasm-guests` (or the workspace's `target/`),
/// a target directory of its own so this nested build never waits on the outer build's lock.
pub fn guest_target_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../target"));
    base.join("wasm-guests")
}

/// Build every guest (examples and hostile plugins) for wasm32-wasip2, once per process, and
/// return the directory holding the `.wasm` files.
pub fn guests_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let sysroot = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .output()
            .expect("run rustc --print sysroot");
        let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
        let target_lib = Path::new(&sysroot).join("lib/rustlib/wasm32-wasip2");
        assert!(
            target_lib.is_dir(),
            "the wasm32-wasip2 target is not installed (looked in {}): run \
             `rustup target add wasm32-wasip2` before the plugin host tests",
            target_lib.display()
        );
        let target_dir = guest_target_dir();
        let manifest = manifest_dir().join("../guests/Cargo.toml");
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
            // The outer build's settings are not the guests' business.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .status()
            .expect("run cargo build for the guest plugins");
        assert!(
            status.success(),
            "building the guest plugins failed ({status})"
        );
        target_dir.join("wasm32-wasip2/release")
    })
}

/// The bytes of a guest, by crate name (`welcome-volunteer`, `test-trap` …).
pub fn wasm(name: &str) -> Vec<u8> {
    let path = guests_dir().join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Limits for tests: defaults, plus an on-disk artifact cache so debug builds do not
/// recompile the plugins on every run of the tests.
pub fn test_limits() -> Limits {
    Limits {
        cache_dir: Some(guest_target_dir().join("host-artifacts")),
        ..Limits::default()
    }
}

/// One host for the whole test binary (as one worker would have).
pub fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(test_limits()).expect("create the plugin host"))
}

pub async fn load(name: &str) -> LoadedPlugin {
    host()
        .load(&wasm(name))
        .await
        .unwrap_or_else(|e| panic!("load {name}: {e}"))
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n)
}

/// An event for an offline run. A kind of the domain's catalogue may only carry fields the
/// catalogue gives it (docs/events.md), so a test cannot feed a plugin a shape the CRM never
/// sends.
pub fn event(kind: &str, subject: Uuid, payload: serde_json::Value) -> Event {
    let catalogue = turnout_domain::outbox::catalogue::describe();
    if let Some(doc) = catalogue.iter().find(|d| d.kind == kind) {
        let real = doc.sample.payload();
        for key in payload.as_object().into_iter().flat_map(|o| o.keys()) {
            assert!(
                real.get(key).is_some(),
                "`{kind}` has no `{key}` in the event catalogue (docs/events.md)"
            );
        }
    }
    Event {
        id: Uuid::from_u128(0xe000_0000_0000_4000_8000_0000_0000_0001),
        kind: kind.into(),
        subject_id: subject,
        occurred_at: at("2026-11-26T12:00:00Z"),
        payload,
        causation_depth: 0,
    }
}

pub fn grants_all(plugin: &LoadedPlugin) -> Grants {
    plugin.describe().capabilities.iter().copied().collect()
}

pub async fn run(
    plugin: &LoadedPlugin,
    event: Event,
    config: serde_json::Value,
    grants: Grants,
    fixtures: &FixtureReadModel,
) -> RunOutcome {
    host()
        .run(
            plugin,
            RunInput {
                org_id: ORG,
                event,
                config,
                grants,
                kv_namespace: None,
            },
            Arc::new(fixtures.clone()),
        )
        .await
}

pub fn fixtures(json: serde_json::Value) -> FixtureReadModel {
    FixtureReadModel::from_json(&json.to_string()).unwrap()
}

/// Run the trivial plugin and check it still works (after something hostile ran).
pub async fn assert_host_still_healthy() {
    let trivial = load("test-trivial").await;
    let subject = id(999);
    let out = run(
        &trivial,
        event("test.ping", subject, serde_json::json!({})),
        serde_json::json!({}),
        grants_all(&trivial),
        &FixtureReadModel::new(),
    )
    .await;
    assert!(
        out.error.is_none(),
        "good plugin failed after a hostile one: {:?}",
        out.error
    );
    assert_eq!(
        out.effects,
        vec![turnout_plugin_host::Effect::AddTag {
            person_id: subject,
            tag: "pinged".into()
        }]
    );
}
