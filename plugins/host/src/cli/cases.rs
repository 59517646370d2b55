//! `turnout plugin test --cases FILE`: a plugin's own test file, run offline case by case.
//!
//! ```json
//! {
//!   "fixtures": "fixtures.json",
//!   "cases": [
//!     {
//!       "name": "tags and greets a new sign-up",
//!       "event": "event.json",
//!       "config": { "tag": "new-volunteer" },
//!       "expect": {
//!         "effects": [{ "type": "add_tag", "person_id": "…", "tag": "new-volunteer" }],
//!         "logs": ["greeting Ana"]
//!       }
//!     },
//!     { "name": "…", "event": { "kind": "…", "subject_id": "…" }, "grant": [],
//!       "expect": { "error": "PLUGIN_ERROR" } }
//!   ]
//! }
//! ```
//!
//! `event` and `fixtures` are a file (relative to the test file) or the JSON itself; a case's
//! own `fixtures` replace the file's. Without `config` a case runs on the schema's defaults,
//! without `grant` with everything the plugin requests. `expect.effects` is the exact list, in
//! order; `expect.error` the run's error code (absent: the run must succeed); each of
//! `expect.logs` must appear in some log line.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use serde::Deserialize;
use serde_json::Value;

use super::{EventFile, read, schema_defaults};
use crate::read_model::FixtureReadModel;
use crate::types::{Capability, Grants};
use crate::{Limits, PluginHost, RunInput};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    fixtures: Option<Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    event: Value,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    fixtures: Option<Value>,
    #[serde(default)]
    grant: Option<Vec<String>>,
    #[serde(default)]
    expect: Expect,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    effects: Option<Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    logs: Vec<String>,
}

/// How one case went.
#[derive(Debug)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// Why it failed, one sentence per mismatch; empty when it passed.
    pub failures: Vec<String>,
}

/// How every case of a test file went.
#[derive(Debug)]
pub struct CasesReport {
    /// Per case, in the file's order.
    pub cases: Vec<CaseReport>,
}

impl CasesReport {
    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.failures.is_empty()).count()
    }
}

impl fmt::Display for CasesReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for case in &self.cases {
            if case.failures.is_empty() {
                writeln!(f, "ok      {}", case.name)?;
            } else {
                writeln!(f, "FAILED  {}", case.name)?;
                for failure in &case.failures {
                    writeln!(f, "        {failure}")?;
                }
            }
        }
        let failed = self.failed();
        writeln!(
            f,
            "{} cases: {} passed, {failed} failed",
            self.cases.len(),
            self.cases.len() - failed
        )
    }
}

/// A file path (relative to `base`) or the JSON itself.
fn inline_or_file(value: &Value, base: &Path, what: &str) -> anyhow::Result<Value> {
    match value {
        Value::String(rel) => {
            let path = base.join(rel);
            serde_json::from_slice(&read(&path)?)
                .with_context(|| format!("{what} {} is not JSON", path.display()))
        }
        other => Ok(other.clone()),
    }
}

/// Run every case of the test file at `cases` on the component at `wasm`.
pub async fn test_cases(wasm: &Path, cases: &Path) -> anyhow::Result<CasesReport> {
    let file: TestFile = serde_json::from_slice(&read(cases)?)
        .with_context(|| format!("{} is not a test file", cases.display()))?;
    let base = cases.parent().unwrap_or(Path::new("."));
    let host = PluginHost::new(Limits::default())?;
    let plugin = host.load(&read(wasm)?).await?;
    let defaults = schema_defaults(&plugin.describe().config_schema);

    let mut reports = Vec::with_capacity(file.cases.len());
    for case in file.cases {
        let context = |what: &str| format!("case `{}`: {what}", case.name);
        let event: EventFile =
            serde_json::from_value(inline_or_file(&case.event, base, "the event")?)
                .with_context(|| context("the event needs kind and subject_id"))?;
        let fixtures = match case.fixtures.as_ref().or(file.fixtures.as_ref()) {
            Some(f) => {
                FixtureReadModel::from_json(&inline_or_file(f, base, "the fixtures")?.to_string())
                    .map_err(|e| anyhow!("{}", context(&format!("bad fixtures: {e}"))))?
            }
            None => FixtureReadModel::new(),
        };
        let grants: Grants = match &case.grant {
            Some(names) => names
                .iter()
                .map(|n| n.parse::<Capability>())
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow!("{}", context(&e.to_string())))?,
            None => plugin.describe().capabilities.iter().copied().collect(),
        };
        let outcome = host
            .run(
                &plugin,
                RunInput {
                    org_id: FixtureReadModel::DEFAULT_ORG,
                    event: event.into_event(),
                    config: case.config.clone().unwrap_or_else(|| defaults.clone()),
                    grants,
                    kv_namespace: None,
                },
                Arc::new(fixtures),
            )
            .await;

        let mut failures = Vec::new();
        match (&case.expect.error, &outcome.error) {
            (None, Some(e)) => failures.push(format!("the run failed: {} ({e})", e.code())),
            (Some(want), None) => {
                failures.push(format!("expected error {want}, the run succeeded"))
            }
            (Some(want), Some(e)) if want != e.code() => {
                failures.push(format!("expected error {want}, got {} ({e})", e.code()))
            }
            _ => {}
        }
        if let Some(want) = &case.expect.effects {
            let got = serde_json::to_value(&outcome.effects)?;
            if &got != want {
                failures.push(format!(
                    "expected effects {}\n        got      {}",
                    serde_json::to_string(want)?,
                    serde_json::to_string(&got)?
                ));
            }
        }
        for line in &case.expect.logs {
            if !outcome
                .logs
                .iter()
                .any(|l| l.message.contains(line.as_str()))
            {
                let logged: Vec<&str> = outcome.logs.iter().map(|l| l.message.as_str()).collect();
                failures.push(format!("no log line contains {line:?}; logged: {logged:?}"));
            }
        }
        reports.push(CaseReport {
            name: case.name,
            failures,
        });
    }
    Ok(CasesReport { cases: reports })
}
