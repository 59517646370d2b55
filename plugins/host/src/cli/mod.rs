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

mod cases;
mod deploy;
pub mod js;

pub use cases::{CaseReport, CasesReport, test_cases};
pub use deploy::{Deployed, deploy};

use crate::read_model::FixtureReadModel;
use crate::types::{Capability, Event, Grants, PluginInfo};
use crate::{Limits, PluginHost, RunInput, RunOutcome};

/// Plugin author tools.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PluginCommand {
    /// Scaffold a ready-to-build plugin in ./NAME (or --dir), with a sample event, fixtures
    /// and test cases that pass at once.
    New {
        /// The plugin's name: lowercase letters, digits and dashes (e.g. `thank-donors`).
        name: String,
        /// The language: `rust` (a crate on the turnout-plugin-sdk) or `js` (an ES module
        /// built with componentize-qjs from npm).
        #[arg(long, value_enum, default_value_t = Lang::Rust)]
        lang: Lang,
        /// Where to create the plugin (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Path to the turnout-plugin-sdk crate (default: the SDK of the Turnout source tree
        /// this binary was built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin into a component and print the path of the .wasm: a Rust crate with
    /// cargo for wasm32-wasip2 (release), a JavaScript plugin (a `turnout.json` beside it) with
    /// componentize-qjs, always with the flags the host needs (`--sync`).
    Build {
        /// The plugin's directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Where the build goes (default: the crate's `target/`, or `dist/` for JavaScript).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Run a plugin offline against fixture data: on one event (`--event`, printing effects
    /// and logs as JSON), or on every case of a test file (`--cases`, reporting pass or fail
    /// per case against the effects, error and logs each expects).
    Test {
        /// The plugin component (.wasm).
        wasm: PathBuf,
        /// The event (JSON: kind, subject_id, and optionally id, occurred_at, payload,
        /// causation_depth).
        #[arg(long, required_unless_present = "cases", conflicts_with = "cases")]
        event: Option<PathBuf>,
        /// A test file (JSON: `{"fixtures": …, "cases": [{"name", "event", "config", "grant",
        /// "expect": {"effects", "error", "logs"}}]}`; see the plugin guide).
        #[arg(long)]
        cases: Option<PathBuf>,
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
    /// Install a plugin on a running Turnout and, with `--automation`, create or update the
    /// automation named in that manifest to run it. Builds the plugin first unless `--wasm`.
    Deploy {
        /// The Turnout's base URL (e.g. `https://crm.example.org`).
        #[arg(long, env = "TURNOUT_URL")]
        url: String,
        /// An API key holding `automations:manage`.
        #[arg(long, env = "TURNOUT_KEY", hide_env_values = true)]
        key: String,
        /// The component to install (default: build the plugin in `--dir`).
        #[arg(long)]
        wasm: Option<PathBuf>,
        /// The plugin's directory, when building.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The name to install under (default: the plugin's own).
        #[arg(long)]
        name: Option<String>,
        /// An automation manifest (TOML: `name`, `config`, optionally `trigger_kinds`,
        /// `grants`, `filter`).
        #[arg(long)]
        automation: Option<PathBuf>,
    },
    /// Print what a plugin says about itself (name, version, events, capabilities, schema).
    Describe {
        /// The plugin component (.wasm).
        wasm: PathBuf,
    },
}

/// A language a plugin can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, on the turnout-plugin-sdk crate, built with cargo.
    Rust,
    /// JavaScript (an ES module), built with componentize-qjs (QuickJS) from npm.
    Js,
}

impl Lang {
    /// Where `turnout plugin build` puts the component of a plugin called `name`.
    pub fn wasm_path(self, name: &str) -> String {
        match self {
            Lang::Rust => format!(
                "target/wasm32-wasip2/release/{}.wasm",
                name.replace('-', "_")
            ),
            Lang::Js => format!("dist/{name}.wasm"),
        }
    }
}

/// Run a plugin subcommand.
pub async fn run(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::New {
            name,
            lang,
            dir,
            sdk,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            match lang {
                Lang::Rust => {
                    let sdk = match sdk {
                        Some(p) => p,
                        None => default_sdk_path()?,
                    };
                    scaffold(&name, &dir, &sdk)?;
                }
                Lang::Js => js::scaffold(&name, &dir)?,
            }
            println!("created plugin `{name}` in {}", dir.display());
            if lang == Lang::Js {
                println!("next: cd {} && npm install", dir.display());
                println!("then: turnout plugin build");
            } else {
                println!("next: cd {} && turnout plugin build", dir.display());
            }
            println!(
                "then: turnout plugin test {} --cases tests.json",
                lang.wasm_path(&name)
            );
            println!("      (turnout plugin sample-event KIND prints an event of any kind)");
            Ok(())
        }
        PluginCommand::Build { dir, target_dir } => {
            let wasm = build_plugin(&dir, target_dir.as_deref())?;
            println!("{}", wasm.display());
            Ok(())
        }
        PluginCommand::Test {
            wasm,
            event: None,
            cases: Some(cases),
            ..
        } => {
            let report = test_cases(&wasm, &cases).await?;
            print!("{report}");
            if report.failed() > 0 {
                bail!("{} of {} cases failed", report.failed(), report.cases.len());
            }
            Ok(())
        }
        PluginCommand::Test {
            wasm,
            event,
            config,
            fixtures,
            grant,
            org,
            ..
        } => {
            let event = event.ok_or_else(|| anyhow!("give --event FILE or --cases FILE"))?;
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
        PluginCommand::Deploy {
            url,
            key,
            wasm,
            dir,
            name,
            automation,
        } => {
            let wasm = match wasm {
                Some(w) => w,
                None => build_plugin(&dir, None)?,
            };
            let done = deploy(
                &url,
                &key,
                read(&wasm)?,
                name.as_deref(),
                automation.as_deref(),
            )
            .await?;
            println!("installed {} (version {})", done.plugin, done.version_id);
            if let Some((id, created)) = done.automation {
                let what = if created { "created" } else { "updated" };
                println!("automation {id} {what} to run it");
            }
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

/// A new plugin needs a valid name and a directory that does not exist yet.
fn check_new(name: &str, dir: &Path) -> anyhow::Result<()> {
    if !valid_name(name) {
        bail!(
            "`{name}` is not a valid plugin name: use lowercase letters, digits and single \
             dashes, starting with a letter (e.g. `thank-donors`)"
        );
    }
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    Ok(())
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
    check_new(name, dir)?;
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
    let files: [(&str, String); 8] = [
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
        ("tests.json", TESTS_JSON.to_string()),
        (".gitignore", "/target\n".to_string()),
        (
            "README.md",
            README_MD
                .replace("{name}", name)
                .replace("{file}", &name.replace('-', "_")),
        ),
    ];
    write_files(dir, &files)
}

/// Write each `(relative path, content)` under `dir`.
fn write_files(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<()> {
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

/// Build the plugin in `dir`, in its language (a `turnout.json` marks JavaScript); the
/// component's path.
pub fn build_plugin(dir: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if dir.join(js::MANIFEST).is_file() {
        js::build(dir, target_dir, None)
    } else {
        build(dir, target_dir)
    }
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

impl EventFile {
    fn into_event(self) -> Event {
        Event {
            id: self.id.unwrap_or_else(Uuid::now_v7),
            kind: self.kind,
            subject_id: self.subject_id,
            occurred_at: self.occurred_at.unwrap_or_else(Utc::now),
            payload: self
                .payload
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
            causation_depth: self.causation_depth,
        }
    }
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
    let event = event_file.into_event();
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
//! Test:  `turnout plugin test target/wasm32-wasip2/release/<name>.wasm --cases tests.json`

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

/// The scaffold's test cases (the same for every language: the templates behave alike).
const TESTS_JSON: &str = r#"{
  "fixtures": "fixtures.json",
  "cases": [
    {
      "name": "tags and greets a new sign-up",
      "event": "event.json",
      "config": { "tag": "new-volunteer" },
      "expect": {
        "effects": [
          { "type": "add_tag", "person_id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01", "tag": "new-volunteer" },
          {
            "type": "send_message",
            "person_id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01",
            "channel": "email",
            "body": { "type": "text", "text": "Hi Ana, thanks for signing up!" }
          }
        ],
        "logs": ["greeting Ana"]
      }
    },
    {
      "name": "without a config the schema's default tag is used",
      "event": "event.json",
      "expect": {
        "effects": [
          { "type": "add_tag", "person_id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01", "tag": "new" },
          {
            "type": "send_message",
            "person_id": "7f8c1a52-3b1e-4c5e-9a57-0d6c2f3b9a01",
            "channel": "email",
            "body": { "type": "text", "text": "Hi Ana, thanks for signing up!" }
          }
        ]
      }
    },
    {
      "name": "someone not in the CRM is an invalid event",
      "event": { "kind": "person.signed_up", "subject_id": "00000000-0000-4000-8000-00000000dead" },
      "expect": { "error": "PLUGIN_ERROR" }
    },
    {
      "name": "without read-people the query is refused, and the log says why",
      "event": "event.json",
      "grant": ["write-tags", "send-messages"],
      "expect": { "error": "PLUGIN_ERROR", "logs": ["`get-person` was refused"] }
    }
  ]
}
"#;

const README_MD: &str = r#"# {name}

A Turnout automation plugin. See the plugin author's guide (`plugins/README.md` in the
Turnout repository).

    turnout plugin build
    turnout plugin test target/wasm32-wasip2/release/{file}.wasm --cases tests.json

One event at a time, printing the effects and logs as JSON:

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
