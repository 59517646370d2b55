//! The same automation in Rust and in JavaScript, side by side: component size, compile time
//! (a new host's first load, no disk cache), instantiate-plus-handle p50 and p99 over many
//! runs, and fuel per run. `welcome-volunteer` and its JavaScript twin on the same fixtures.
//!
//! `cargo bench -p turnout-plugin-host --bench languages` (builds the Rust guests, and the
//! JavaScript ones with componentize-qjs from npm). Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use turnout_plugin_host::{FixtureReadModel, Limits, PluginHost, ReadModel, RunInput};

const RUNS: usize = 1000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fixtures = common::fixtures(json!({
        "people": [{"id": common::id(1), "first_name": "Ana", "last_name": "García",
                    "language": "es", "email": "ana@example.org"}]
    }));
    let read_model: Arc<dyn ReadModel> = Arc::new(fixtures);
    let config = json!({ "tag": "volunteer", "point_people": [common::id(101), common::id(102)] });
    let plugins = [
        ("Rust (SDK)", common::wasm("welcome-volunteer")),
        (
            "JavaScript (componentize-qjs 0.4.5, QuickJS)",
            common::js::js_wasm("examples-js/welcome-volunteer"),
        ),
    ];
    println!("| language | component | compile (first load) | run p50 | run p99 | fuel per run |");
    println!("|---|---|---|---|---|---|");
    let mut rust_run = None;
    for (language, bytes) in plugins {
        // A new host each time, without a disk cache: the compile is measured, not found.
        let host = PluginHost::new(Limits::default()).unwrap();
        let started = Instant::now();
        let plugin = rt.block_on(host.load(&bytes)).unwrap();
        let compile = started.elapsed();
        let input = || RunInput {
            org_id: FixtureReadModel::DEFAULT_ORG,
            event: common::event("person.signed_up", common::id(1), json!({})),
            config: config.clone(),
            grants: common::grants_all(&plugin),
            kv_namespace: None,
        };
        // Sanity: the run does what it should, or the numbers mean nothing.
        let out = rt.block_on(host.run(&plugin, input(), read_model.clone()));
        assert!(out.error.is_none() && out.effects.len() == 5, "{out:?}");
        let fuel = out.fuel_used;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let out = rt.block_on(host.run(&plugin, input(), read_model.clone()));
                assert!(out.error.is_none());
                started.elapsed()
            })
            .collect();
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let ratio = match rust_run {
            None => {
                rust_run = Some((p50, fuel));
                String::new()
            }
            Some((rust_p50, rust_fuel)) => format!(
                " ({:.1}× Rust's time, {:.1}× its fuel)",
                p50.as_secs_f64() / rust_p50.as_secs_f64(),
                fuel as f64 / rust_fuel as f64
            ),
        };
        println!(
            "| {language} | {:.0} KB | {:.2} s | {:.3} ms | {:.3} ms | {fuel}{ratio} |",
            bytes.len() as f64 / 1024.0,
            compile.as_secs_f64(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
        );
    }
}
