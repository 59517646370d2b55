//! `POST /plugins`: a component sent as itself, under the plugin host's own limit, answered as
//! `installPlugin` answers; and a body over a limit is a 413 that says which setting raises it.

use std::sync::Arc;

use serde_json::{Value, json};
use sha2::Digest as _;
use turnout_plugin_host::{Limits, PluginHost};

use crate::harness::{TestApp, data, unlimited};
use crate::plugin_support::{spawn, wasm};

async fn upload(
    app: &TestApp,
    key: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!("{}/plugins?name=greeter", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_component_posted_as_itself_is_installed_as_install_plugin_would() {
    let app = spawn().await;
    let bytes = wasm("welcome-volunteer");
    let (status, body) = upload(&app, Some(&app.key), "application/wasm", bytes.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plugin"]["name"], "greeter");
    let version = &body["version"];
    assert_eq!(version["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!(version["sizeBytes"], json!(bytes.len()));
    assert_eq!(version["handles"], json!(["person.signed_up"]));
    assert!(
        version["requestedCapabilities"]
            .as_array()
            .is_some_and(|caps| caps.contains(&json!("send-messages"))),
        "{body}"
    );
    // The same version GraphQL lists, and the same bytes again are the same version.
    let listed = app.gql("{ pluginVersions { id sha256 } }", json!({})).await;
    assert_eq!(data(&listed)["pluginVersions"][0]["id"], version["id"]);
    let (status, again) = upload(&app, Some(&app.key), "application/wasm", bytes).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["version"]["id"], version["id"]);
    assert_eq!(app.count(turnout_entity::plugin_versions::Entity).await, 1);
}

#[tokio::test]
async fn uploads_need_the_media_type_a_credential_and_automations_manage() {
    let app = spawn().await;
    let bytes = wasm("welcome-volunteer");
    let (status, body) = upload(
        &app,
        Some(&app.key),
        "application/x-www-form-urlencoded",
        bytes.clone(),
    )
    .await;
    assert_eq!(status, 415, "a form post cannot install a plugin: {body}");

    let (status, body) = upload(&app, None, "application/wasm", bytes.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (status, body) = upload(&app, Some(&reader), "application/wasm", bytes).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // A query string it does not take is a clear refusal, not axum's plain text.
    let resp = app
        .client
        .post(format!("{}/plugins?nmae=x", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/wasm")
        .body(wasm("welcome-volunteer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );

    // Not a component: the host's sentence, as a VALIDATION on `component`.
    let (status, body) = upload(&app, Some(&app.key), "application/wasm", b"hello".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "component");
    assert_eq!(app.count(turnout_entity::plugin_versions::Entity).await, 0);
}

#[tokio::test]
async fn a_component_over_the_plugin_limit_is_a_413_naming_the_setting() {
    let bytes = wasm("welcome-volunteer");
    let limit = bytes.len() / 2;
    let host = PluginHost::new(Limits {
        max_component_bytes: limit,
        ..Limits::default()
    })
    .unwrap();
    let app = TestApp::spawn_with(turnout_api::ApiConfig {
        plugin_host: Some(Arc::new(host)),
        ..unlimited()
    })
    .await;
    let (status, body) = upload(&app, Some(&app.key), "application/wasm", bytes).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("{limit} bytes")) && message.contains("TURNOUT_PLUGIN_MAX_BYTES"),
        "{message}"
    );
    assert_eq!(app.count(turnout_entity::plugin_versions::Entity).await, 0);
}

#[tokio::test]
async fn deploy_installs_and_creates_then_updates_the_automation_by_name() {
    let app = spawn().await;
    let tmp = tempfile::tempdir().unwrap();
    let wasm_path = tmp.path().join("welcome.wasm");
    std::fs::write(&wasm_path, wasm("welcome-volunteer")).unwrap();
    let manifest = tmp.path().join("automation.toml");
    let write_manifest = |tag: &str| {
        std::fs::write(
            &manifest,
            format!(
                "name = \"Welcome new volunteers\"\n\
                 trigger_kinds = [\"person.signed_up\"]\n\
                 grants = [\"read-people\", \"write-tags\", \"create-tasks\"]\n\
                 [config]\ntag = \"{tag}\"\nfollow_up_days = 3\n"
            ),
        )
        .unwrap();
    };
    let automations = "{ automations { id name pluginVersionId config grantedCapabilities } }";
    let deploy = |key: &str, with_manifest: bool| {
        let (key, component) = (key.to_owned(), std::fs::read(&wasm_path).unwrap());
        let manifest = with_manifest.then(|| manifest.clone());
        let base = app.base.clone();
        async move {
            turnout_plugin_host::cli::deploy(&base, &key, component, None, manifest.as_deref())
                .await
        }
    };

    write_manifest("welcomed");
    let first = deploy(&app.key, true).await.unwrap();
    assert_eq!(first.plugin, "welcome-volunteer 0.1.0");
    let (id, created) = first.automation.clone().unwrap();
    assert!(created);
    let listed = app.gql(automations, json!({})).await;
    let listed = &data(&listed)["automations"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], json!(id));
    assert_eq!(listed[0]["pluginVersionId"], json!(first.version_id));
    assert_eq!(
        listed[0]["config"],
        json!({ "tag": "welcomed", "follow_up_days": 3 })
    );
    assert_eq!(
        listed[0]["grantedCapabilities"],
        json!(["read-people", "write-tags", "create-tasks"])
    );

    // Again with another config: the same automation, updated; no second one.
    write_manifest("welcomed-again");
    let second = deploy(&app.key, true).await.unwrap();
    assert_eq!(second.automation, Some((id, false)));
    let listed = app.gql(automations, json!({})).await;
    let listed = &data(&listed)["automations"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["config"]["tag"], "welcomed-again");

    // A config the plugin's schema refuses is the server's sentence, and nothing changes.
    std::fs::write(
        &manifest,
        "name = \"Welcome new volunteers\"\n[config]\ntreshold = 1\n",
    )
    .unwrap();
    let refused = deploy(&app.key, true).await.unwrap_err().to_string();
    assert!(
        refused.contains("VALIDATION") && refused.contains("treshold"),
        "{refused}"
    );
    let listed = app.gql(automations, json!({})).await;
    assert_eq!(
        data(&listed)["automations"][0]["config"]["tag"],
        "welcomed-again"
    );

    // A key without automations:manage is refused at the upload.
    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let refused = deploy(&reader, false).await.unwrap_err().to_string();
    assert!(refused.contains("FORBIDDEN"), "{refused}");
}
