//! `turnout plugin …`: scaffold, build and test plugins offline.
//!
//! The root binary mounts [`PluginCommand`] as a subcommand and calls [`run`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::read_model::FixtureReadModel;
use crate::types::{Capability, Event, Grants, PluginInfo};
use crate::{Limits, PluginHost, RunInput, RunOutcome};

/// Plugin author tools.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PluginCommand {
    /// Scaffold a ready-to-build plugin crate in ./NAME (or --dir).
    New {
        /// The plugin's name: lowercase letters, digits and dashes (e.g. `thank-donors`).
        name: String,
        /// Where to create the crate (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Path to the turnout-plugin-sdk crate (default: the SDK of the Turnout source tree
        /// this binary was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin crate for wasm32-wasip2 (release) and print the path of the .wasm.
    Build {
        /// The plugin crate's directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Cargo's target directory (default: the crate's `target/`).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Run a plugin offline on one event against fixture data; print effects and logs as JSON.
    Test {
        /// The plugin component (.wasm).
        wasm: PathBuf,
        /// The event (JSON: kind, subject_id, and optionally id, occurred_at, payload,
        /// causation_depth).
        #[arg(long)]
        event: PathBuf,
        /// The automation's configuration (JSON). Default: the `default` of each property of
        /// the plugin's config schema.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Fixture data (JSON: `{"people": [...], "attendance": [...], "shifts": [...],
        /// "kv": [...]}` or an array of people).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Capabilities to grant, comma-separated (default: everything the plugin requests).
        #[arg(long, value_delimiter = ',')]
        grant: Option<Vec<String>>,
        /// The organization to run in (default: the fixtures' default organization).
        #[arg(long)]
        org: Option<Uuid>,
    },
    /// Print a realistic event of KIND, shaped exactly as the CRM sends it (from the domain's
    /// event catalogue, docs/events.md), for `turnout plugin test --event`.
    SampleEvent {
        /// An event kind, such as `shift.missed` (or `followup.<name>`).
        kind: String,
    },
    /// Print what a plugin says about itself (name, version, events, capabilities, schema).
    Describe {
        /// The plugin component (.wasm).
        wasm: PathBuf,
    },
}

/// Run a plugin subcommand.
pub async fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::New { name, dir, sdk } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let sdk = match sdk {
                Some(p) => p,
                None => default_sdk_path()?,
            };
            scaffold(&name, &dir, &sdk)?;
            println!("created plugin `{name}` in {}", dir.display());
            println!("next: cd {} && turnout plugin build", dir.display());
            println!(
                "then: turnout plugin test target/wasm32-wasip2/release/{}.wasm --event event.json --config config.json --fixtures fixtures.json",
                name.replace('-', "_")
            );
            println!("      (turnout plugin sample-event KIND prints an event of any kind)");
            Ok(())
        }
        PluginCommand::Build { dir, target_dir } => {
            let wasm = build(&dir, target_dir.as_deref())?;
            println!("{}", wasm.display());
            Ok(())
        }
        PluginCommand::Test {
            wasm,
            event,
            config,
            fixtures,
            grant,
            org,
        } => {
            let report = test(
                &wasm,
                &event,
                config.as_deref(),
                fixtures.as_deref(),
                grant,
                org,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            match &report.outcome.error {
                Some(e) => Err(anyhow!("the run failed: {e}")),
                None => Ok(()),
            }
        }
        PluginCommand::SampleEvent { kind } => {
            println!("{}", serde_json::to_string_pretty(&sample_event(&kind)?)?);
            Ok(())
        }
        PluginCommand::Describe { wasm } => {
            let host = PluginHost::new(Limits::default())?;
            let bytes = read(&wasm)?;
            let plugin = host.load(&bytes).await?;
            println!("{}", serde_json::to_string_pretty(plugin.describe())?);
            Ok(())
        }
    }
}

/// The event file `turnout plugin sample-event KIND` prints: the catalogue's sample of KIND.
pub fn sample_event(kind: &str) -> anyhow::Result<serde_json::Value> {
    let catalogue = turnout_domain::outbox::catalogue::describe();
    let wanted = if kind.starts_with("followup.") {
        "followup.<name>"
    } else {
        kind
    };
    let Some(doc) = catalogue.iter().find(|d| d.kind == wanted) else {
        let known: Vec<&str> = catalogue.iter().map(|d| d.kind).collect();
        return Err(anyhow!(
            "`{kind}` is not an event kind; the kinds are: {}",
            known.join(", ")
        ));
    };
    let (_, subject_id) = doc.sample.subject();
    Ok(serde_json::json!({
        "kind": kind,
        "subject_id": subject_id,
        "occurred_at": "2026-12-05T18:00:00Z",
        "payload": doc.sample.payload(),
        "causation_depth": 0,
    }))
}

/// The configuration a plugin gets when none is given: each property's `default`.
pub fn schema_defaults(schema: &serde_json::Value) -> serde_json::Value {
    let defaults: serde_json::Map<String, serde_json::Value> = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(key, prop)| Some((key.clone(), prop.get("default")?.clone())))
        .collect();
    serde_json::Value::Object(defaults)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn default_sdk_path() -> anyhow::Result<PathBuf> {
    let candidate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    candidate.canonicalize().map_err(|_| {
        anyhow!(
            "the turnout-plugin-sdk source is not at {} (this binary was built elsewhere); \
             pass --sdk PATH/TO/plugins/sdk",
            candidate.display()
        )
    })
}

/// Whether a plugin name is acceptable as a crate name and a plugin name.
fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 64
        && bytes[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && !name.contains("--")
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn camel_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Create a plugin crate at `dir` depending on the SDK at `sdk`.
pub fn scaffold(name: &str, dir: &Path, sdk: &Path) -> anyhow::Result<()> {
    if !valid_name(name) {
        bail!(
            "`{name}` is not a valid plugin name: use lowercase letters, digits and single \
             dashes, starting with a letter (e.g. `thank-donors`)"
        );
    }
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("the SDK path {} does not exist", sdk.display()))?;
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the turnout-plugin-sdk crate (no Cargo.toml)",
            sdk.display()
        );
    }
    let sdk_str = sdk.to_string_lossy().replace('\\', "/");
    let files: [(&str, String); 7] = [
        (
            "Cargo.toml",
            CARGO_TOML
                .replace("{name}", name)
                .replace("{sdk}", &toml_string(&sdk_str)),
        ),
        (
            "src/lib.rs",
            LIB_RS
                .replace("{name}", name)
                .replace("{Type}", &camel_case(name)),
        ),
        ("event.json", EVENT_JSON.to_string()),
        ("config.json", CONFIG_JSON.to_string()),
        ("fixtures.json", FIXTURES_JSON.to_string()),
        (".gitignore", "/target\n".to_string()),
        (
            "README.md",
            README_MD
                .replace("{name}", name)
                .replace("{file}", &name.replace('-', "_")),
        ),
    ];
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Build the plugin crate in `dir` for wasm32-wasip2 (release); return the component's path.
pub fn build(dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(dir).args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--message-format=json-render-diagnostics",
    ]);
    if let Some(t) = target_dir {
        command.arg("--target-dir").arg(t);
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run cargo in {}", dir.display()))?;
    if !output.status.success() {
        bail!(
            "cargo build failed ({}). If the target is missing, run `rustup target add \
             wasm32-wasip2`",
            output.status
        );
    }
    #[derive(Deserialize)]
    struct Message {
        reason: String,
        #[serde(default)]
        filenames: Vec<PathBuf>,
    }
    let mut wasm = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Ok(m) = serde_json::from_str::<Message>(line)
            && m.reason == "compiler-artifact"
            && let Some(f) = m
                .filenames
                .into_iter()
                .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        {
            wasm = Some(f);
        }
    }
    wasm.ok_or_else(|| {
        anyhow!("the build produced no .wasm: is the crate a `cdylib` (see `turnout plugin new`)?")
    })
}

/// An event file: only `kind` and `subject_id` are required.
#[derive(Debug, Deserialize)]
struct EventFile {
    #[serde(default)]
    id: Option<Uuid>,
    kind: String,
    subject_id: Uuid,
    #[serde(default)]
    occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
    #[serde(default)]
    causation_depth: u32,
}

/// What `turnout plugin test` prints.
#[derive(Debug, Serialize)]
pub struct TestReport {
    /// What the plugin says about itself.
    pub plugin: PluginInfo,
    /// The contract version it was built against.
    pub contract_version: String,
    /// The sha256 of the component.
    pub sha256: String,
    /// The capabilities granted for this run.
    pub grants: Grants,
    /// The event as run.
    pub event: Event,
    /// Effects, logs, fuel, duration, error.
    pub outcome: RunOutcome,
}

/// Run a plugin offline on one event.
pub async fn test(
    wasm: &Path,
    event: &Path,
    config: Option<&Path>,
    fixtures: Option<&Path>,
    grant: Option<Vec<String>>,
    org: Option<Uuid>,
) -> anyhow::Result<TestReport> {
    let bytes = read(wasm)?;
    let event_file: EventFile = serde_json::from_slice(&read(event)?).with_context(|| {
        format!(
            "{} is not an event (needs kind, subject_id)",
            event.display()
        )
    })?;
    let event = Event {
        id: event_file.id.unwrap_or_else(Uuid::now_v7),
        kind: event_file.kind,
        subject_id: event_file.subject_id,
        occurred_at: event_file.occurred_at.unwrap_or_else(Utc::now),
        payload: event_file
            .payload
            .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
        causation_depth: event_file.causation_depth,
    };
    let config = match config {
        Some(p) => serde_json::from_slice(&read(p)?)
            .with_context(|| format!("{} is not JSON", p.display()))?,
        None => serde_json::Value::Null,
    };
    let read_model = match fixtures {
        Some(p) => FixtureReadModel::from_file(p)?,
        None => FixtureReadModel::new(),
    };

    let host = PluginHost::new(Limits::default())?;
    let plugin = host.load(&bytes).await?;
    let config = if config.is_null() {
        schema_defaults(&plugin.describe().config_schema)
    } else {
        config
    };
    let grants: Grants = match grant {
        Some(names) => names
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.parse::<Capability>())
            .collect::<Result<_, _>>()?,
        None => plugin.describe().capabilities.iter().copied().collect(),
    };
    let outcome = host
        .run(
            &plugin,
            RunInput {
                org_id: org.unwrap_or(FixtureReadModel::DEFAULT_ORG),
                event: event.clone(),
                config,
                grants: grants.clone(),
                kv_namespace: None,
            },
            Arc::new(read_model),
        )
        .await;
    Ok(TestReport {
        plugin: plugin.describe().clone(),
        contract_version: plugin.contract_version().to_string(),
        sha256: plugin.sha256().to_string(),
        grants,
        event,
        outcome,
    })
}

const CARGO_TOML: &str = r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# A plugin is a WebAssembly component: `turnout plugin build` builds this crate for
# wasm32-wasip2 and the result is target/wasm32-wasip2/release/<name>.wasm.
[lib]
crate-type = ["cdylib"]

[dependencies]
turnout-plugin-sdk = { path = {sdk} }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# A workspace of its own, even when created inside another Cargo workspace.
[workspace]
"#;

const LIB_RS: &str = r#"//! {name}: a Turnout automation plugin.
//!
//! Build: `turnout plugin build`
//! Test:  `turnout plugin test target/wasm32-wasip2/release/<name>.wasm --event event.json \
//!         --config config.json --fixtures fixtures.json`

use turnout_plugin_sdk::prelude::*;

/// The automation's configuration (what an admin fills in; see `config_schema` below).
#[derive(serde::Deserialize)]
#[serde(default)]
struct Config {
    /// The tag to add to new sign-ups.
    tag: String,
}

impl Default for Config {
    fn default() -> Self {
        Config { tag: "new".into() }
    }
}

struct {Type};

impl Plugin for {Type} {
    type Config = Config;

    fn describe() -> PluginInfo {
        PluginInfo::new("{name}", env!("CARGO_PKG_VERSION"))
            .description("Tags and greets every new sign-up")
            .handles(["person.signed_up"])
            // Ask only for what you use: every query and effect is checked against these.
            .capabilities([Capability::ReadPeople, Capability::WriteTags, Capability::SendMessages])
            .config_schema(serde_json::json!({
                "type": "object",
                "properties": { "tag": { "type": "string", "default": "new" } }
            }))
    }

    fn handle(event: &Event, config: Config) -> Result<Vec<Effect>, PluginError> {
        let person = query::person(&event.subject_id)?
            .ok_or_else(|| PluginError::InvalidEvent("no such person".into()))?;
        log::info(format!("greeting {}", person.first_name));

        let mut effects = vec![Effect::add_tag(&person.id, &config.tag)];
        if let Some(channel) = person.reachable_channel(Channel::Email) {
            effects.push(Effect::send_text(
                &person.id,
                channel,
                format!("Hi {}, thanks for signing up!", person.first_name),
            ));
        }
        Ok(effects)
    }
}

export_plugin!({Type});
"#;

const EVENT_JSON: &str = r#"{
  "kind": "person.signed_up",
  "subject_id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01",
  "occurred_at": "2026-11-26T12:00:00Z",
  "payload": {}
}
"#;

const CONFIG_JSON: &str = r#"{
  "tag": "new-volunteer"
}
"#;

const FIXTURES_JSON: &str = r#"{
  "people": [
    {
      "id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01",
      "first_name": "Ana",
      "last_name": "García",
      "email": "ana@example.org",
      "language": "es",
      "tags": []
    }
  ],
  "attendance": [],
  "shifts": [],
  "kv": []
}
"#;

const README_MD: &str = r#"# {name}

A Turnout automation plugin. See the plugin author's guide (`plugins/README.md` in the
Turnout repository).

    turnout plugin build
    turnout plugin test target/wasm32-wasip2/release/{file}.wasm \
        --event event.json --config config.json --fixtures fixtures.json
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_events_are_the_catalogues_and_unknown_kinds_are_named() {
        let missed = sample_event("shift.missed").map_err(|e| e.to_string());
        let Ok(missed) = missed else {
            panic!("{missed:?}");
        };
        assert_eq!(missed["kind"], "shift.missed");
        assert!(missed["payload"]["shift_id"].is_string(), "{missed}");
        assert_eq!(missed["subject_id"], missed["payload"]["person_id"]);
        let follow_up = sample_event("followup.call_back").map_err(|e| e.to_string());
        assert!(follow_up.is_ok_and(|e| e["kind"] == "followup.call_back"));
        let unknown = sample_event("shift.mised").map_err(|e| e.to_string());
        assert!(unknown.is_err_and(|e| e.contains("shift.missed")));
    }

    #[test]
    fn a_missing_config_is_the_schemas_defaults() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "tag": { "type": "string", "default": "welcomed" },
                "days": { "type": "integer", "default": 2 },
                "optional": { "type": "string" }
            }
        });
        assert_eq!(
            schema_defaults(&schema),
            serde_json::json!({ "tag": "welcomed", "days": 2 })
        );
        assert_eq!(
            schema_defaults(&serde_json::json!({})),
            serde_json::json!({})
        );
    }

    #[test]
    fn names() {
        assert!(valid_name("thank-donors"));
        assert!(valid_name("a1"));
        assert!(!valid_name("Thank"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("x-"));
        assert!(!valid_name("a--b"));
        assert!(!valid_name("a_b"));
        assert!(!valid_name(""));
        assert_eq!(camel_case("thank-donors-2"), "ThankDonors2");
    }

    #[test]
    fn scaffold_writes_a_crate_depending_on_the_sdk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("thank-donors");
        scaffold("thank-donors", &dir, &default_sdk_path().unwrap()).unwrap();
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("name = \"thank-donors\""));
        assert!(cargo.contains("turnout-plugin-sdk = { path = \""));
        assert!(cargo.contains("plugins/sdk\""), "{cargo}");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(
            lib.contains("struct ThankDonors;") && lib.contains("export_plugin!(ThankDonors);")
        );
        let fixtures = std::fs::read_to_string(dir.join("fixtures.json")).unwrap();
        FixtureReadModel::from_json(&fixtures).unwrap();
        // Refuses to overwrite.
        assert!(scaffold("thank-donors", &dir, &default_sdk_path().unwrap()).is_err());
        assert!(
            scaffold(
                "Bad_Name",
                &tmp.path().join("x"),
                &default_sdk_path().unwrap()
            )
            .is_err()
        );
    }
}
