//! Host overhead per plugin run: instantiate from the cached `InstancePre`, call `handle` on a
//! trivial plugin, check and convert its effect. Also runs per second with concurrent runs.
//!
//! `cargo bench -p turnout-plugin-host --bench host_overhead` (builds the guests first).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use turnout_plugin_host::{FixtureReadModel, Limits, PluginHost, ReadModel, RunInput};

fn input(plugin: &turnout_plugin_host::LoadedPlugin) -> RunInput {
    RunInput {
        org_id: common::ORG,
        event: common::event("test.ping", common::id(1), serde_json::json!({})),
        config: serde_json::json!({}),
        grants: common::grants_all(plugin),
        kv_namespace: None,
    }
}

fn bench(c: &mut Criterion) {
    let bytes = common::wasm("test-trivial");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let host = Arc::new(PluginHost::new(Limits::default()).unwrap());
    let plugin = rt.block_on(host.load(&bytes)).unwrap();
    let read_model: Arc<dyn ReadModel> = Arc::new(FixtureReadModel::new());

    // Sanity: the run does what it should, or the numbers mean nothing.
    let out = rt.block_on(host.run(&plugin, input(&plugin), read_model.clone()));
    assert!(out.error.is_none() && out.effects.len() == 1, "{out:?}");

    let mut group = c.benchmark_group("plugin_host");
    group.throughput(Throughput::Elements(1));
    group.bench_function("run_trivial_sequential", |b| {
        b.to_async(&rt).iter(|| {
            let (host, plugin, rm) = (host.clone(), plugin.clone(), read_model.clone());
            async move {
                let out = host.run(&plugin, input(&plugin), rm).await;
                assert!(out.error.is_none());
            }
        })
    });

    const BATCH: u64 = 64;
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("run_trivial_64_concurrent", |b| {
        b.to_async(&rt).iter(|| {
            let (host, plugin, rm) = (host.clone(), plugin.clone(), read_model.clone());
            async move {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..BATCH {
                    let (host, plugin, rm) = (host.clone(), plugin.clone(), rm.clone());
                    set.spawn(async move { host.run(&plugin, input(&plugin), rm).await });
                }
                while let Some(out) = set.join_next().await {
                    assert!(out.unwrap().error.is_none());
                }
            }
        })
    });
    group.finish();

    c.bench_function("load_cached_plugin", |b| {
        b.to_async(&rt).iter(|| {
            let (host, bytes) = (host.clone(), bytes.clone());
            async move { host.load(&bytes).await.unwrap() }
        })
    });
}

/// Compiling and validating a plugin version (done once per version, then cached): a fresh
/// host without a disk cache, `load` (compile, check the contract version, `describe`).
fn bench_compile(c: &mut Criterion) {
    let bytes = common::wasm("test-trivial");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("plugin_compile");
    group.sample_size(10);
    group.bench_function("new_host_and_first_load", |b| {
        b.to_async(&rt).iter(|| {
            let bytes = bytes.clone();
            async move {
                let host = PluginHost::new(Limits {
                    max_instances: 4,
                    ..Limits::default()
                })
                .unwrap();
                host.load(&bytes).await.unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_compile);
criterion_main!(benches);
