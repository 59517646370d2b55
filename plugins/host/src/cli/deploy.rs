//! `turnout plugin deploy`: install a built plugin on a running Turnout (`POST /plugins`) and,
//! with an automation manifest, create or update the automation of that name to run the new
//! version (GraphQL), all with one API key holding `automations:manage`.
//!
//! The manifest (TOML):
//!
//! ```toml
//! name = "Welcome new volunteers"          # the automation, created or updated by this name
//! trigger_kinds = ["person.signed_up"]     # optional: default every kind the plugin handles
//! grants = ["read-people", "write-tags"]   # optional: default everything it requests
//! filter = { payload = { created = true } } # optional
//!
//! [config]                                 # the automation's configuration
//! tag = "welcomed"
//! point_people = ["<user id>"]             # user ids: `organization { members }` lists them
//! ```

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};

/// An automation manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    #[serde(default)]
    trigger_kinds: Option<Vec<String>>,
    #[serde(default)]
    grants: Option<Vec<String>>,
    #[serde(default)]
    filter: Option<toml::Value>,
    #[serde(default)]
    config: Option<toml::Value>,
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    /// The installed plugin version's id.
    pub version_id: String,
    /// The plugin's name and version, as it describes itself.
    pub plugin: String,
    /// The automation's id and whether it was created (else updated), with a manifest.
    pub automation: Option<(String, bool)>,
}

/// A GraphQL or HTTP refusal, in the server's words.
fn refusal(status: reqwest::StatusCode, body: &Value) -> anyhow::Error {
    if body["errors"].is_null() {
        return anyhow!("the server answered {status}");
    }
    let message = body["errors"][0]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("ERROR");
    anyhow!("the server refused ({status}, {code}): {message}")
}

async fn graphql(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let resp = client
        .post(format!("{url}/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() || body["errors"].is_array() {
        return Err(refusal(status, &body));
    }
    Ok(body["data"].clone())
}

/// Install `component` on the Turnout at `url` (as `name`, default its own), then apply the
/// automation manifest at `automation` if given.
pub async fn deploy(
    url: &str,
    key: &str,
    component: Vec<u8>,
    name: Option<&str>,
    automation: Option<&Path>,
) -> anyhow::Result<Deployed> {
    let url = url.trim_end_matches('/');
    // Read the manifest first: a bad one should not leave a half-done deploy behind.
    let manifest: Option<Manifest> = match automation {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(
                toml::from_str(&text)
                    .with_context(|| format!("{} is not an automation manifest", path.display()))?,
            )
        }
        None => None,
    };
    let client = reqwest::Client::new();
    let mut upload = client
        .post(format!("{url}/plugins"))
        .bearer_auth(key)
        .header("content-type", "application/wasm")
        .body(component);
    if let Some(name) = name {
        upload = upload.query(&[("name", name)]);
    }
    let resp = upload
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = resp.status();
    let installed: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(refusal(status, &installed));
    }
    let version_id = installed["version"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("the server's answer has no version id: {installed}"))?
        .to_owned();
    let plugin = format!(
        "{} {}",
        installed["plugin"]["name"].as_str().unwrap_or("?"),
        installed["version"]["version"].as_str().unwrap_or("?")
    );
    let Some(manifest) = manifest else {
        return Ok(Deployed {
            version_id,
            plugin,
            automation: None,
        });
    };

    let existing = graphql(&client, url, key, "{ automations { id name } }", json!({})).await?;
    let matching: Vec<&Value> = existing["automations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["name"] == manifest.name.as_str())
        .collect();
    if matching.len() > 1 {
        bail!(
            "{} automations are called {:?}; rename all but one, or deploy without --automation",
            matching.len(),
            manifest.name
        );
    }
    let mut input = json!({ "pluginVersionId": version_id });
    if let Some(kinds) = &manifest.trigger_kinds {
        input["triggerKinds"] = json!(kinds);
    }
    if let Some(grants) = &manifest.grants {
        input["grants"] = json!(grants);
    }
    if let Some(filter) = &manifest.filter {
        input["filter"] = serde_json::to_value(filter)?;
    }
    if let Some(config) = &manifest.config {
        input["config"] = serde_json::to_value(config)?;
    }
    let automation = match matching.first() {
        Some(found) => {
            let id = found["id"].as_str().unwrap_or_default().to_owned();
            graphql(
                &client,
                url,
                key,
                "mutation($id: ID!, $input: UpdateAutomationInput!) { \
                 updateAutomation(id: $id, input: $input) { id } }",
                json!({ "id": id, "input": input }),
            )
            .await?;
            (id, false)
        }
        None => {
            input["name"] = json!(manifest.name);
            let data = graphql(
                &client,
                url,
                key,
                "mutation($input: CreateAutomationInput!) { createAutomation(input: $input) { id } }",
                json!({ "input": input }),
            )
            .await?;
            let id = data["createAutomation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (id, true)
        }
    };
    Ok(Deployed {
        version_id,
        plugin,
        automation: Some(automation),
    })
}
