//! JavaScript plugins: scaffolding one and building it with componentize-qjs (QuickJS).
//!
//! A JavaScript plugin is a directory with a `turnout.json` (`{"name": "my-plugin", "lang":
//! "js", "entry": "plugin.js", "wit": "wit"}`), an ES module exporting `plugin` ({describe, handle}) and the
//! contract's WIT. componentize-qjs comes from npm as a devDependency of the plugin's
//! `package.json` (found in `node_modules/.bin` of the plugin's directory or any above it, or at
//! `TURNOUT_COMPONENTIZE_QJS`). The build always passes `--sync`: the host does not run the
//! component-model async ABI, and without it the component is refused at install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

/// The file that marks a directory as a JavaScript plugin.
pub const MANIFEST: &str = "turnout.json";

/// The componentize-qjs version scaffolded plugins pin (the one the examples are tested with).
pub const COMPONENTIZE_QJS_VERSION: &str = "0.4.5";

/// The contract, copied into every scaffolded plugin so that it builds on its own.
const WIT: &str = include_str!("../../../wit/automation@0.1.0/automation.wit");
/// The contract's types as JavaScript sees them, for editors (`// @ts-check`).
pub const TYPES: &str = include_str!("../../../js/turnout.d.ts");
/// `definePlugin`: parsed configuration, and thrown errors said as the contract's errors.
pub const HELPERS: &str = include_str!("../../../js/turnout.js");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    lang: String,
    entry: PathBuf,
    /// The component's file name (default: the directory's name).
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "default_wit")]
    wit: PathBuf,
    /// The directory the module may import from (default: the plugin's own).
    #[serde(default)]
    root: Option<PathBuf>,
}

fn default_wit() -> PathBuf {
    PathBuf::from("wit")
}

/// Create a JavaScript plugin at `dir`.
pub(super) fn scaffold(name: &str, dir: &Path) -> anyhow::Result<()> {
    super::check_new(name, dir)?;
    let files: [(&str, String); 12] = [
        (
            "package.json",
            PACKAGE_JSON
                .replace("{name}", name)
                .replace("{componentize}", COMPONENTIZE_QJS_VERSION),
        ),
        (MANIFEST, MANIFEST_JSON.replace("{name}", name)),
        ("plugin.js", PLUGIN_JS.replace("{name}", name)),
        ("turnout.d.ts", TYPES.to_string()),
        ("turnout.js", HELPERS.to_string()),
        ("wit/automation.wit", WIT.to_string()),
        ("event.json", super::EVENT_JSON.to_string()),
        ("config.json", super::CONFIG_JSON.to_string()),
        ("fixtures.json", super::FIXTURES_JSON.to_string()),
        ("tests.json", super::TESTS_JSON.to_string()),
        (".gitignore", "/node_modules\n/dist\n".to_string()),
        ("README.md", README_MD.replace("{name}", name)),
    ];
    super::write_files(dir, &files)
}

/// The componentize-qjs to run for the plugin in `dir`.
fn find_componentize(dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("TURNOUT_COMPONENTIZE_QJS") {
        return Ok(PathBuf::from(path));
    }
    let start = dir
        .canonicalize()
        .with_context(|| format!("{} does not exist", dir.display()))?;
    start
        .ancestors()
        .map(|d| d.join("node_modules/.bin/componentize-qjs"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow!(
                "componentize-qjs is not installed for {}: run `npm install` there (it is a \
                 devDependency in package.json; `npm install --save-dev componentize-qjs@{}` \
                 adds it). That needs Node.js 18 or later and npm (on Debian: `apt-get install \
                 nodejs npm`).",
                dir.display(),
                COMPONENTIZE_QJS_VERSION
            )
        })
}

/// Build the JavaScript plugin in `dir` into `out_dir` (default `dir/dist`) with `tool`
/// (default: the componentize-qjs found for `dir`); the component's path, named after the
/// manifest's `name` (or the directory).
pub fn build(dir: &Path, out_dir: Option<&Path>, tool: Option<&Path>) -> anyhow::Result<PathBuf> {
    let manifest_path = dir.join(MANIFEST);
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not a plugin manifest ({{\"lang\": \"js\", \"entry\": \"plugin.js\", \
             \"wit\": \"wit\"}})",
            manifest_path.display()
        )
    })?;
    if manifest.lang != "js" {
        bail!(
            "{}: `lang` is {:?}; this Turnout builds `js` (Rust plugins are cargo crates)",
            manifest_path.display(),
            manifest.lang
        );
    }
    let tool = match tool {
        Some(t) => t.to_path_buf(),
        None => find_componentize(dir)?,
    };
    let name = match manifest.name {
        Some(n) if super::valid_name(&n) => n,
        Some(n) => bail!(
            "{}: `name` {n:?} is not a plugin name (lowercase letters, digits and single dashes)",
            manifest_path.display()
        ),
        None => dir
            .canonicalize()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into()),
    };
    let out_dir = out_dir.map_or_else(|| dir.join("dist"), Path::to_path_buf);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let out = out_dir.join(format!("{name}.wasm"));
    let mut command = Command::new(&tool);
    if let Some(root) = &manifest.root {
        command.arg("--module-root").arg(root);
    }
    let output = command
        .current_dir(dir)
        .arg("--wit")
        .arg(&manifest.wit)
        .arg("--js")
        .arg(&manifest.entry)
        // The host runs synchronous components only; --opt-size keeps the component ~1 MB.
        .args(["--sync", "--opt-size", "-o"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    if !output.status.success() {
        bail!(
            "componentize-qjs failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(out.canonicalize().unwrap_or(out))
}

const PACKAGE_JSON: &str = r#"{
  "name": "{name}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "build": "turnout plugin build",
    "test": "turnout plugin build && turnout plugin test dist/{name}.wasm --cases tests.json"
  },
  "devDependencies": {
    "componentize-qjs": "{componentize}"
  }
}
"#;

const MANIFEST_JSON: &str = r#"{
  "name": "{name}",
  "lang": "js",
  "entry": "plugin.js",
  "wit": "wit"
}
"#;

const PLUGIN_JS: &str = r#"// @ts-check
// {name}: a Turnout automation plugin in JavaScript.
//
// Build: `turnout plugin build`        (componentize-qjs from `npm install`)
// Test:  `turnout plugin test dist/{name}.wasm --cases tests.json`
//
// turnout.d.ts describes every type of the contract (wit/automation.wit documents them).

import queries from "turnout:automation/queries@0.1.0";
import logging from "turnout:automation/logging@0.1.0";
import { definePlugin } from "./turnout.js";

export const plugin = definePlugin({
  describe() {
    return {
      name: "{name}",
      version: "0.1.0",
      description: "Tags and greets every new sign-up",
      handles: ["person.signed_up"],
      // Ask only for what you use: every query and effect is checked against these.
      capabilities: ["read-people", "write-tags", "send-messages"],
      configSchema: JSON.stringify({
        type: "object",
        properties: { tag: { type: "string", default: "new" } },
      }),
    };
  },

  // `config` is the automation's configuration, parsed. A query throws when it is refused;
  // definePlugin turns that (or any Error) into a failed run with a sentence.
  handle(event, config) {
    const person = queries.getPerson(event.subjectId);
    if (person == null) {
      throw { tag: "invalid-event", val: "no such person" };
    }
    logging.log("info", `greeting ${person.firstName}`);

    /** @type {import("./turnout").Effect[]} */
    const effects = [{ tag: "add-tag", val: { personId: person.id, tag: config.tag ?? "new" } }];
    if (person.email != null) {
      effects.push({
        tag: "send-message",
        val: {
          personId: person.id,
          channel: "email",
          body: { tag: "text", val: `Hi ${person.firstName}, thanks for signing up!` },
        },
      });
    }
    return effects;
  },
});
"#;

const README_MD: &str = r#"# {name}

A Turnout automation plugin in JavaScript. See the plugin author's guide (`plugins/README.md`
in the Turnout repository).

    npm install                      # componentize-qjs, once
    turnout plugin build             # dist/{name}.wasm
    turnout plugin test dist/{name}.wasm --cases tests.json
"#;
