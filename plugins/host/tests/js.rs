//! Plugins in JavaScript, built from source with componentize-qjs (npm) and run through the
//! real host: the JavaScript examples do what the Rust examples do, refused queries are said as
//! sentences, an async-ABI component is refused with its fix, and the contract's TypeScript
//! types name every field of the WIT.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::js::{js_wasm, with_componentize};
use common::*;
use serde_json::json;
use turnout_plugin_host::{Capability, Grants, HostError, LoadedPlugin, RunError, RunOutcome};

async fn load_js(rel: &str) -> LoadedPlugin {
    host()
        .load(&js_wasm(rel))
        .await
        .unwrap_or_else(|e| panic!("load {rel}: {e}"))
}

/// Runs the Rust example and its JavaScript port on the same input; both outcomes.
async fn both(
    example: &str,
    event: turnout_plugin_host::Event,
    config: serde_json::Value,
    fx: &turnout_plugin_host::FixtureReadModel,
) -> (RunOutcome, RunOutcome) {
    let rust = load(example).await;
    let js = load_js(&format!("examples-js/{example}")).await;
    let r = run(&rust, event.clone(), config.clone(), grants_all(&rust), fx).await;
    let j = run(&js, event, config, grants_all(&js), fx).await;
    assert!(r.error.is_none(), "rust: {:?}", r.error);
    assert!(j.error.is_none(), "js: {:?} {:?}", j.error, j.logs);
    println!(
        "{example}: fuel rust {} js {} ({:.1}x)",
        r.fuel_used,
        j.fuel_used,
        j.fuel_used as f64 / r.fuel_used.max(1) as f64
    );
    (r, j)
}

#[tokio::test]
async fn the_javascript_welcome_does_what_the_rust_welcome_does() {
    let fx = fixtures(json!({
        "people": [
            {"id": id(1), "first_name": "Ana", "last_name": "García", "language": "es-MX",
             "email": "ana@example.org", "phone": "+15550001"},
            {"id": id(2), "first_name": "Bob", "language": "fr",
             "phone": "+15550002", "tags": ["volunteer"]}
        ],
        "kv": [{"namespace": "welcome-volunteer", "key": "round-robin-next", "value": "1"},
               {"namespace": "welcome-volunteer-js", "key": "round-robin-next", "value": "1"}]
    }));
    let config = json!({
        "tag": "volunteer",
        "point_people": [id(101), id(102)],
        "messages": {"en": "Welcome, {first_name}!", "es": "¡Bienvenida, {first_name}!"},
        "channel": "email",
        "follow_up_days": 3
    });
    for person in [id(1), id(2)] {
        let (r, j) = both(
            "welcome-volunteer",
            event("person.signed_up", person, json!({})),
            config.clone(),
            &fx,
        )
        .await;
        assert!(r.effects.len() >= 3, "{:?}", r.effects);
        assert_eq!(j.effects, r.effects);
    }
    // With its own defaults (no config at all), too.
    let (r, j) = both(
        "welcome-volunteer",
        event("person.signed_up", id(1), json!({})),
        json!({}),
        &fx,
    )
    .await;
    assert_eq!(j.effects, r.effects);
}

#[tokio::test]
async fn the_javascript_missed_shift_does_what_the_rust_one_does() {
    for earlier_miss in ["2026-11-12T10:00:00Z", "2026-10-12T10:00:00Z"] {
        let fx = fixtures(json!({
            "people": [
                {"id": id(1), "first_name": "Maria", "last_name": "Silva", "phone": "+15550001",
                 "ladder_stage": "active", "point_person_id": id(101)}
            ],
            "attendance": [
                {"person_id": id(1), "at": "2026-10-01T10:00:00Z", "status": "attended"},
                {"person_id": id(1), "at": earlier_miss, "status": "missed"},
                {"person_id": id(1), "at": "2026-11-26T10:00:00Z", "status": "missed"}
            ]
        }));
        let (r, j) = both(
            "missed-shift-follow-up",
            event("shift.missed", id(1), json!({"shift_id": id(500)})),
            json!({}),
            &fx,
        )
        .await;
        assert!(r.effects.len() >= 2, "{:?}", r.effects);
        assert_eq!(j.effects, r.effects, "earlier miss at {earlier_miss}");
    }
}

#[tokio::test]
async fn a_query_refused_in_javascript_fails_the_run_with_sentences() {
    // Requested in `describe`, not granted.
    let plugin = load_js("examples-js/welcome-volunteer").await;
    let grants: Grants = [Capability::WriteTags, Capability::CreateTasks]
        .into_iter()
        .collect();
    let fx = fixtures(json!({"people": [{"id": id(1), "first_name": "Ana"}]}));
    let out = run(
        &plugin,
        event("person.signed_up", id(1), json!({})),
        json!({}),
        grants,
        &fx,
    )
    .await;
    match &out.error {
        Some(RunError::Plugin { kind, message }) => {
            assert_eq!(kind, "failed");
            assert!(message.contains("not-granted: read-people"), "{message}");
        }
        other => panic!("expected a failed run, got {other:?}"),
    }
    assert!(
        out.logs
            .iter()
            .any(|l| l.message.contains("`get-person` was refused")
                && l.message.contains("not granted to this automation")),
        "{:?}",
        out.logs
    );

    // Not requested in `describe` at all.
    let plugin = load_js("test-plugins-js/undeclared-query").await;
    let out = run(
        &plugin,
        event("test.ping", id(1), json!({})),
        json!({}),
        grants_all(&plugin),
        &fx,
    )
    .await;
    assert_eq!(out.error.as_ref().map(RunError::code), Some("PLUGIN_ERROR"));
    assert!(
        out.logs
            .iter()
            .any(|l| l.message.contains("`upcoming-shifts` was refused")
                && l.message.contains("`read-shifts`")
                && l.message.contains("not requested in `describe`")),
        "{:?}",
        out.logs
    );
}

#[tokio::test]
async fn an_async_abi_component_is_refused_with_the_fix() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../test-plugins-js/undeclared-query");
    let bytes = with_componentize(|tool| {
        let out = tempfile::tempdir().unwrap();
        let wasm = out.path().join("async.wasm");
        // As componentize-qjs builds by default, without `--sync`.
        let status = std::process::Command::new(tool)
            .current_dir(&source)
            .args(["--wit", "../../wit/automation@0.1.0", "--js", "plugin.js"])
            .args(["--module-root", "../..", "-o"])
            .arg(&wasm)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read(&wasm).unwrap()
    });
    match host().load(&bytes).await {
        Err(e @ HostError::AsyncAbi(_)) => {
            let message = e.to_string();
            assert!(
                message.contains("--sync") && message.contains("turnout plugin build"),
                "{message}"
            );
        }
        Err(other) => panic!("expected the async-ABI refusal, got {other}"),
        Ok(_) => panic!("an async-ABI component must be refused"),
    }
}

/// `record`, `enum` and `variant` names of the WIT, as JavaScript spells them.
fn wit_names(wit: &str) -> (Vec<String>, Vec<String>) {
    let camel = |s: &str| {
        let mut out = String::new();
        let mut upper = false;
        for c in s.chars() {
            if c == '-' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    let (mut fields, mut cases) = (Vec::new(), Vec::new());
    let mut block = "";
    for line in wit.lines().map(str::trim) {
        if line.starts_with("///") || line.is_empty() {
            continue;
        }
        if let Some(kind) = ["record ", "enum ", "variant "]
            .into_iter()
            .find(|k| line.starts_with(k))
        {
            block = kind.trim();
            continue;
        }
        if line.starts_with('}') {
            block = "";
            continue;
        }
        let name = line
            .split([':', '(', ','])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        match block {
            "record" => fields.push(camel(&name)),
            "enum" | "variant" => cases.push(name),
            _ => {}
        }
    }
    (fields, cases)
}

#[test]
fn the_typescript_types_name_every_field_and_case_of_the_wit() {
    let wit = include_str!("../../wit/automation@0.1.0/automation.wit");
    let types = turnout_plugin_host::cli::js::TYPES;
    let (fields, cases) = wit_names(wit);
    assert!(
        fields.len() > 60 && cases.len() > 20,
        "{fields:?} {cases:?}"
    );
    for field in fields {
        assert!(
            types.contains(&format!("  {field}: ")),
            "turnout.d.ts lacks the field `{field}`"
        );
    }
    for case in cases {
        assert!(
            types.contains(&format!("\"{case}\"")),
            "turnout.d.ts lacks the case \"{case}\""
        );
    }
}
