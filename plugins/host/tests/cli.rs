//! `turnout plugin new` + `build` + `test`, end to end, as the author's guide describes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use turnout_plugin_host::cli;
use turnout_plugin_host::{Channel, Effect, MessageBody};
use uuid::Uuid;

#[tokio::test]
async fn new_build_test_round_trip() {
    // Make sure the target is there (and fail with the clear message if not).
    common::guests_dir();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("greet-signups");
    let sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    cli::scaffold("greet-signups", &dir, &sdk).unwrap();

    let target = common::guest_target_dir().join("cli-scaffold");
    let wasm = cli::build(&dir, Some(&target)).unwrap();
    assert!(
        wasm.ends_with("wasm32-wasip2/release/greet_signups.wasm"),
        "{}",
        wasm.display()
    );

    let report = cli::test(
        &wasm,
        &dir.join("event.json"),
        Some(&dir.join("config.json")),
        Some(&dir.join("fixtures.json")),
        None,
        None,
    )
    .await
    .unwrap();
    assert!(report.outcome.error.is_none(), "{:?}", report.outcome.error);
    let ana = Uuid::parse_str("7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01").unwrap();
    assert_eq!(
        report.outcome.effects,
        vec![
            Effect::AddTag {
                person_id: ana,
                tag: "new-volunteer".into()
            },
            Effect::SendMessage {
                person_id: ana,
                channel: Channel::Email,
                body: MessageBody::Text {
                    text: "Hi Ana, thanks for signing up!".into()
                },
            },
        ]
    );
    assert_eq!(report.plugin.name, "greet-signups");
    assert!(
        report
            .outcome
            .logs
            .iter()
            .any(|l| l.message == "greeting Ana")
    );
    // The report is what the CLI prints: it must serialize.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["outcome"]["effects"][0]["type"], "add_tag");

    // Granting less than the plugin needs makes the run fail, with nothing applied.
    let report = cli::test(
        &wasm,
        &dir.join("event.json"),
        Some(&dir.join("config.json")),
        Some(&dir.join("fixtures.json")),
        Some(vec!["read-people".into(), "write-tags".into()]),
        None,
    )
    .await
    .unwrap();
    assert!(report.outcome.effects.is_empty());
    assert_eq!(report.outcome.error.unwrap().code(), "NOT_GRANTED");
}

#[tokio::test]
async fn a_javascript_plugin_from_new_builds_and_passes_its_own_cases() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory not named after the plugin: the component is still named after it, where
    // `new` and the plugin's package.json say it is.
    let dir = tmp.path().join("work");
    let run = cli::PluginCommand::New {
        name: "greet-signups".into(),
        lang: cli::Lang::Js,
        dir: Some(dir.clone()),
        sdk: None,
    };
    cli::run(run).await.unwrap();
    // Without componentize-qjs installed, the build says how to install it.
    let missing = cli::build_plugin(&dir, None).unwrap_err().to_string();
    assert!(missing.contains("npm install"), "{missing}");

    let wasm = common::js::with_componentize(|tool| {
        cli::js::build(&dir, Some(&tmp.path().join("out")), Some(tool)).unwrap()
    });
    assert!(
        wasm.ends_with("out/greet-signups.wasm"),
        "{}",
        wasm.display()
    );
    let report = cli::test_cases(&wasm, &dir.join("tests.json"))
        .await
        .unwrap();
    assert_eq!(report.cases.len(), 4);
    assert_eq!(report.failed(), 0, "{report}");

    // A case that expects something else fails, and says what it got.
    let cases = dir.join("tests.json");
    let text = std::fs::read_to_string(&cases).unwrap();
    std::fs::write(&cases, text.replacen("Hi Ana,", "Hello Ana,", 1)).unwrap();
    let report = cli::test_cases(&wasm, &cases).await.unwrap();
    assert_eq!(report.failed(), 1, "{report}");
    let printed = report.to_string();
    assert!(
        printed.contains("FAILED  tags and greets a new sign-up") && printed.contains("Hi Ana,"),
        "{printed}"
    );
}

#[tokio::test]
async fn the_rust_scaffold_passes_its_own_cases() {
    common::guests_dir();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("greet-cases");
    let sdk = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    cli::scaffold("greet-cases", &dir, &sdk).unwrap();
    let wasm = cli::build(&dir, Some(&common::guest_target_dir().join("cli-scaffold"))).unwrap();
    let report = cli::test_cases(&wasm, &dir.join("tests.json"))
        .await
        .unwrap();
    assert_eq!(report.cases.len(), 4);
    assert_eq!(report.failed(), 0, "{report}");
}
