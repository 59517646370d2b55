//! Hostile plugins: each fails its own run with a specific error, returns no effects, and the
//! same host then runs a good plugin correctly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use turnout_plugin_host::{
    Capability, Effect, FixtureReadModel, Grants, HostError, Limits, PluginHost, RunError, RunInput,
};

async fn run_hostile(name: &str, config: serde_json::Value) -> turnout_plugin_host::RunOutcome {
    let plugin = load(name).await;
    let grants = Capability::ALL.into_iter().collect::<Grants>();
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        config,
        grants,
        &FixtureReadModel::new(),
    )
    .await;
    assert!(
        out.effects.is_empty(),
        "a failed run must return no effects: {:?}",
        out.effects
    );
    out
}

#[tokio::test]
async fn infinite_loop_is_stopped_by_fuel() {
    let out = run_hostile("test-infinite-loop", json!({})).await;
    assert_eq!(
        out.error,
        Some(RunError::FuelExhausted {
            fuel: test_limits().fuel
        })
    );
    assert!(
        out.fuel_used >= test_limits().fuel - 1000,
        "fuel used: {}",
        out.fuel_used
    );
    assert!(
        out.duration < Duration::from_secs(5),
        "took {:?}",
        out.duration
    );
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn infinite_loop_is_stopped_by_the_epoch_deadline_when_fuel_is_plentiful() {
    let limits = Limits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_millis(200),
        max_instances: 4,
        ..test_limits()
    };
    let host = PluginHost::new(limits).unwrap();
    let plugin = host.load(&wasm("test-infinite-loop")).await.unwrap();
    let out = host
        .run(
            &plugin,
            RunInput {
                org_id: ORG,
                event: event("test.ping", id(1), json!({})),
                config: json!({}),
                grants: Grants::none(),
                kv_namespace: None,
            },
            Arc::new(FixtureReadModel::new()),
        )
        .await;
    assert_eq!(out.error, Some(RunError::DeadlineExceeded { millis: 200 }));
    assert!(
        out.duration >= Duration::from_millis(200),
        "{:?}",
        out.duration
    );
    assert!(out.duration < Duration::from_secs(3), "{:?}", out.duration);
    assert!(out.effects.is_empty());
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn memory_hog_hits_the_memory_limit() {
    let out = run_hostile("test-memory-hog", json!({})).await;
    assert_eq!(
        out.error,
        Some(RunError::MemoryLimit {
            limit_bytes: test_limits().memory_bytes
        })
    );
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn trap_fails_the_run() {
    let out = run_hostile("test-trap", json!({})).await;
    match &out.error {
        Some(RunError::Trap { message }) => {
            assert!(message.contains("unreachable"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn panic_fails_the_run_with_its_message() {
    let out = run_hostile("test-panic", json!({})).await;
    match &out.error {
        Some(RunError::Panicked { message }) => assert!(
            message.contains("deliberate panic while handling test.ping"),
            "{message}"
        ),
        other => panic!("expected a panic, got {other:?}"),
    }
    assert!(out.logs.iter().any(|l| l.message.starts_with("stderr: ")));
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn oversized_output_is_refused() {
    let out = run_hostile("test-oversized-output", json!({"mode": "big"})).await;
    match out.error {
        Some(RunError::OutputTooLarge { size, limit }) => {
            assert!(size > 4 << 20, "{size}");
            assert_eq!(limit, test_limits().max_output_bytes);
        }
        other => panic!("expected OutputTooLarge, got {other:?}"),
    }
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn too_many_effects_are_refused() {
    let out = run_hostile("test-oversized-output", json!({"mode": "many"})).await;
    assert_eq!(
        out.error,
        Some(RunError::TooManyEffects {
            count: 2_000,
            limit: test_limits().max_effects
        })
    );
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn output_within_limits_from_the_same_plugin_passes() {
    // The control for the two tests above: a small "big" output is fine.
    let plugin = load("test-oversized-output").await;
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        json!({"mode": "big", "size": 100}),
        grants_all(&plugin),
        &FixtureReadModel::new(),
    )
    .await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.effects.len(), 1);
}

#[tokio::test]
async fn effect_without_grant_fails_the_whole_run() {
    let plugin = load("test-ungranted-effect").await;
    // Everything the plugin asks for is granted; it returns a message it never asked for.
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        json!({}),
        grants_all(&plugin),
        &FixtureReadModel::new(),
    )
    .await;
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    assert_eq!(
        out.error,
        Some(RunError::NotGranted {
            index: 1,
            effect: "send_message".into(),
            capability: Capability::SendMessages,
            declared: false,
        })
    );
    // Granting it at install is refused too: the plugin never requested it.
    let grants: Grants = [Capability::WriteTags, Capability::SendMessages]
        .into_iter()
        .collect();
    assert!(matches!(
        plugin.check_grants(&grants),
        Err(HostError::GrantNotRequested(Capability::SendMessages))
    ));
    // And even a run with that grant passed in fails: undeclared capabilities never count.
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        json!({}),
        grants,
        &FixtureReadModel::new(),
    )
    .await;
    assert!(matches!(
        out.error,
        Some(RunError::NotGranted {
            declared: false,
            ..
        })
    ));
    assert!(out.effects.is_empty());
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn unsupported_contract_version_is_refused_at_load() {
    let err = host()
        .load(&wasm("test-unsupported-version"))
        .await
        .unwrap_err();
    match &err {
        HostError::UnsupportedContract { found, supported } => {
            assert_eq!(found, "0.9.0");
            assert_eq!(supported, "0.1.0");
        }
        other => panic!("expected UnsupportedContract, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("0.9.0") && message.contains("0.1.0"),
        "{message}"
    );
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn cross_org_query_sees_nothing_of_the_other_organization() {
    let plugin = load("test-cross-org-query").await;
    let fx = fixtures(json!({
        "people": [
            {"id": id(1), "first_name": "Mine"},
            {"id": id(2), "first_name": "AlsoMine"},
            {"org_id": OTHER_ORG, "id": id(3), "first_name": "Theirs"}
        ]
    }));
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({"target_id": id(3)})),
        json!({}),
        grants_all(&plugin),
        &fx,
    )
    .await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let seen: Vec<String> = out
        .effects
        .iter()
        .map(|e| match e {
            Effect::AddTag { tag, .. } => tag.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // The search works (own organization visible), the other organization's person is not.
    assert_eq!(
        seen,
        vec![format!("saw:{}", id(1)), format!("saw:{}", id(2))]
    );
    assert!(
        out.logs.iter().any(|l| l.message.contains("not visible")),
        "{:?}",
        out.logs
    );

    // Control: the same person id in the run's own organization is visible.
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({"target_id": id(2)})),
        json!({}),
        grants_all(&plugin),
        &fx,
    )
    .await;
    assert!(out.effects.contains(&Effect::AddTag {
        person_id: id(1),
        tag: format!("saw:{}", id(2))
    }));
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn queries_without_a_grant_are_refused() {
    let plugin = load("test-cross-org-query").await;
    let grants: Grants = [Capability::WriteTags].into_iter().collect();
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({"target_id": id(1)})),
        json!({}),
        grants,
        &fixtures(json!([{"id": id(1), "first_name": "Mine"}])),
    )
    .await;
    match out.error {
        Some(RunError::Plugin { kind, message }) => {
            assert_eq!(kind, "failed");
            assert!(
                message.contains("needs the capability `read-people`"),
                "a sentence, not Rust debug text: {message}"
            );
        }
        other => panic!("expected the plugin to fail on a refused query, got {other:?}"),
    }
    // The log tells the author which half is missing: here the grant, not the request.
    assert!(
        out.logs
            .iter()
            .any(|l| l.message.contains("`get-person` was refused")
                && l.message
                    .contains("requests it in `describe`, but it is not granted")),
        "{:?}",
        out.logs
    );
}

#[tokio::test]
async fn not_a_component_is_refused() {
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    assert!(matches!(
        host().load(&core_module).await,
        Err(HostError::CoreModule)
    ));
    assert!(matches!(
        host().load(b"definitely not wasm").await,
        Err(HostError::InvalidComponent(_))
    ));
    assert_host_still_healthy().await;
}

#[tokio::test]
async fn input_limits_and_chain_depth_are_enforced_before_running() {
    let plugin = load("test-trivial").await;
    let big = "x".repeat(test_limits().max_input_bytes + 1);
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({ "big": big })),
        json!({}),
        grants_all(&plugin),
        &FixtureReadModel::new(),
    )
    .await;
    assert!(
        matches!(out.error, Some(RunError::InputTooLarge { .. })),
        "{:?}",
        out.error
    );

    let mut deep = event("test.ping", id(1), json!({}));
    deep.causation_depth = turnout_plugin_host::limits::MAX_CAUSATION_DEPTH + 1;
    let out = run(
        &plugin,
        deep,
        json!({}),
        grants_all(&plugin),
        &FixtureReadModel::new(),
    )
    .await;
    assert!(
        matches!(out.error, Some(RunError::ChainTooDeep { .. })),
        "{:?}",
        out.error
    );

    let out = run(
        &plugin,
        event("person.signed_up", id(1), json!({})),
        json!({}),
        grants_all(&plugin),
        &FixtureReadModel::new(),
    )
    .await;
    assert_eq!(
        out.error,
        Some(RunError::EventNotHandled {
            kind: "person.signed_up".into()
        })
    );
    assert_eq!(out.fuel_used, 0);
}

#[tokio::test]
async fn the_compiled_artifact_cache_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        cache_dir: Some(dir.path().to_path_buf()),
        max_instances: 2,
        ..Limits::default()
    };
    let bytes = wasm("test-trivial");
    let first = PluginHost::new(limits.clone()).unwrap();
    let a = first.load(&bytes).await.unwrap();
    let b = first.load(&bytes).await.unwrap();
    assert_eq!(a.sha256(), b.sha256());
    assert_eq!(first.loaded_count(), 1);
    assert!(first.unload(a.sha256()));
    assert!(!first.unload(a.sha256()));
    assert_eq!(first.loaded_count(), 0);
    // Loading again after unloading comes from the disk artifact and still works.
    let b = first.load(&bytes).await.unwrap();
    assert_eq!(a.sha256(), b.sha256());
    assert_eq!(first.loaded_count(), 1);
    let artifacts: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(artifacts.len(), 1, "one artifact per component and engine");
    let name = artifacts[0]
        .as_ref()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    assert!(
        name.starts_with(a.sha256()) && name.contains(first.fingerprint()),
        "{name}"
    );

    // A second host (a restarted worker) loads from disk and runs correctly.
    let second = PluginHost::new(limits).unwrap();
    let c = second.load(&bytes).await.unwrap();
    let out = second
        .run(
            &c,
            RunInput {
                org_id: ORG,
                event: event("test.ping", id(7), json!({})),
                config: json!(null),
                grants: grants_all(&c),
                kv_namespace: None,
            },
            Arc::new(FixtureReadModel::new()),
        )
        .await;
    assert_eq!(
        out.effects,
        vec![Effect::AddTag {
            person_id: id(7),
            tag: "pinged".into()
        }]
    );
}
