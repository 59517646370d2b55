//! The plugin host: one wasmtime engine, a cache of compiled plugins, sandboxed runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, AutomationPre};
use crate::convert;
use crate::error::{HostError, RunError};
use crate::limits::Limits;
use crate::read_model::ReadModel;
use crate::sandbox::{FixedMonotonicClock, FixedWallClock, SplitMix64};
use crate::types::{Capability, Effect, Event, Grants, LogLevel, LogLine, OrgId, PluginInfo};

/// Contract versions of `turnout:automation` this host runs.
pub const SUPPORTED_CONTRACT_VERSIONS: &[&str] = &["0.1.0"];

const PLUGIN_EXPORT_PREFIX: &str = "turnout:automation/plugin@";

/// What to run: the event, the automation's config and the admin's grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInput {
    /// The organization the run belongs to; every query is scoped to it.
    pub org_id: OrgId,
    /// The event to handle.
    pub event: Event,
    /// The automation's configuration (JSON).
    pub config: serde_json::Value,
    /// The capabilities an admin granted to this installation.
    pub grants: Grants,
    /// The key-value namespace; defaults to the plugin's name.
    #[serde(default)]
    pub kv_namespace: Option<String>,
}

/// The record of one run. When `error` is set, `effects` is empty: nothing is applied.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// The effects to apply (all together), checked against the grants.
    pub effects: Vec<Effect>,
    /// What the plugin logged (and wrote to stdout/stderr).
    pub logs: Vec<LogLine>,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Wall-clock time of the run, including instantiation.
    pub duration: Duration,
    /// Why the run failed, if it did.
    pub error: Option<RunError>,
}

impl RunOutcome {
    /// Whether the run succeeded.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

struct PluginInner {
    sha256: String,
    contract_version: String,
    info: PluginInfo,
    pre: AutomationPre<RunState>,
}

/// A compiled, validated plugin, ready to run any number of times (cheap to clone).
#[derive(Clone)]
pub struct LoadedPlugin {
    inner: Arc<PluginInner>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.inner.info.name)
            .field("version", &self.inner.info.version)
            .field("sha256", &self.inner.sha256)
            .finish()
    }
}

impl LoadedPlugin {
    /// What the plugin said about itself (captured once at load).
    pub fn describe(&self) -> &PluginInfo {
        &self.inner.info
    }

    /// The hex sha256 of the component bytes.
    pub fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    /// The contract version the plugin was built against.
    pub fn contract_version(&self) -> &str {
        &self.inner.contract_version
    }

    /// Check an admin's grants at install: only requested capabilities can be granted.
    pub fn check_grants(&self, grants: &Grants) -> Result<(), HostError> {
        match grants
            .iter()
            .find(|c| !self.inner.info.capabilities.contains(c))
        {
            Some(c) => Err(HostError::GrantNotRequested(c)),
            None => Ok(()),
        }
    }
}

/// Advances the engine's epoch in the background; stops when the host is dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine, tick: Duration) -> Result<Self, HostError> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("turnout-plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| HostError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Why the engine refused a component, said for its author: an async-ABI component (the
/// validator names the feature it lacks) gets the fix, anything else the validator's words.
fn refusal(message: String) -> HostError {
    if message.contains("component model async") {
        HostError::AsyncAbi(message)
    } else {
        HostError::InvalidComponent(message)
    }
}

/// The plugin host: compiles, caches, validates and runs plugins under limits.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<RunState>,
    limits: Limits,
    fingerprint: String,
    cache: Mutex<HashMap<String, LoadedPlugin>>,
    /// One permit per pooling-allocator slot: runs beyond the pool wait instead of failing.
    slots: tokio::sync::Semaphore,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("limits", &self.limits)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl PluginHost {
    /// A host with these limits: an engine with fuel, epoch interruption and a pooling
    /// allocator sized from the limits; WASI linked with nothing granted; the contract's
    /// imports linked to the host's scoped queries.
    pub fn new(limits: Limits) -> Result<Self, HostError> {
        let engine = Engine::new(&engine_config(&limits)?)
            .map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let mut linker: Linker<RunState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| HostError::Engine(format!("linking WASI: {e:#}")))?;
        bindings::Automation::add_to_linker::<RunState, HasSelf<RunState>>(&mut linker, |s| s)
            .map_err(|e| HostError::Engine(format!("linking the contract: {e:#}")))?;
        let fingerprint = engine_fingerprint(&engine);
        if let Some(dir) = &limits.cache_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| HostError::Cache(format!("create {}: {e}", dir.display())))?;
        }
        let ticker = EpochTicker::start(&engine, limits.epoch_tick)?;
        Ok(PluginHost {
            engine,
            linker,
            limits: limits.clone(),
            fingerprint,
            cache: Mutex::new(HashMap::new()),
            slots: tokio::sync::Semaphore::new(limits.max_instances.max(1) as usize),
            _ticker: ticker,
        })
    }

    /// The limits this host applies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The engine fingerprint compiled artifacts are keyed by (wasmtime version and config).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Validate and compile a plugin (or take it from the cache). Refuses anything that is not
    /// a component exporting a supported contract version.
    pub async fn load(&self, bytes: &[u8]) -> Result<LoadedPlugin, HostError> {
        if bytes.len() > self.limits.max_component_bytes {
            return Err(HostError::TooLarge {
                size: bytes.len(),
                limit: self.limits.max_component_bytes,
            });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(hit) = self.cached(&sha256) {
            return Ok(hit);
        }
        check_header(bytes)?;

        // Compiling takes milliseconds to seconds: keep it off the async executor's threads.
        let engine = self.engine.clone();
        let cached_path = self.artifact_path(&sha256).filter(|p| p.is_file());
        let source = bytes.to_vec();
        let (component, from_disk) = tokio::task::spawn_blocking(move || {
            if let Some(path) = cached_path {
                match deserialize_artifact(&engine, &path) {
                    Ok(c) => return Ok((c, true)),
                    Err(e) => tracing::warn!(
                        path = %path.display(), error = %e,
                        "ignoring unusable cached plugin artifact"
                    ),
                }
            }
            Component::new(&engine, &source)
                .map(|c| (c, false))
                .map_err(|e| refusal(format!("{e:#}")))
        })
        .await
        .map_err(|e| HostError::Engine(format!("compilation task failed: {e}")))??;
        let contract_version = self.contract_version(&component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::Link(format!("{e:#}")))?;
        let pre =
            AutomationPre::new(instance_pre).map_err(|e| HostError::Link(format!("{e:#}")))?;
        let info = self.call_describe(&pre).await?;
        if !from_disk {
            self.write_disk_cache(&sha256, &component);
        }
        let plugin = LoadedPlugin {
            inner: Arc::new(PluginInner {
                sha256: sha256.clone(),
                contract_version,
                info,
                pre,
            }),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(sha256, plugin.clone());
        }
        Ok(plugin)
    }

    /// Forget a compiled plugin (for example when its last automation is deleted). Runs in
    /// flight keep their own reference. Returns whether it was loaded.
    pub fn unload(&self, sha256: &str) -> bool {
        self.cache
            .lock()
            .map(|mut c| c.remove(sha256).is_some())
            .unwrap_or(false)
    }

    /// How many compiled plugins the in-memory cache holds.
    pub fn loaded_count(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn cached(&self, sha256: &str) -> Option<LoadedPlugin> {
        self.cache.lock().ok()?.get(sha256).cloned()
    }

    fn contract_version(&self, component: &Component) -> Result<String, HostError> {
        let ty = component.component_type();
        let mut names = Vec::new();
        let mut found = None;
        for (name, item) in ty.exports(&self.engine) {
            names.push(name.to_string());
            if let Some(version) = name.strip_prefix(PLUGIN_EXPORT_PREFIX)
                && matches!(item.ty, ComponentItem::ComponentInstance(_))
            {
                found = Some(version.to_string());
            }
        }
        let Some(version) = found else {
            return Err(HostError::NotAPlugin {
                exports: if names.is_empty() {
                    "nothing".into()
                } else {
                    names.join(", ")
                },
            });
        };
        if !SUPPORTED_CONTRACT_VERSIONS.contains(&version.as_str()) {
            return Err(HostError::UnsupportedContract {
                found: version,
                supported: SUPPORTED_CONTRACT_VERSIONS.join(", "),
            });
        }
        Ok(version)
    }

    async fn call_describe(&self, pre: &AutomationPre<RunState>) -> Result<PluginInfo, HostError> {
        let state = RunState::new(
            &self.limits,
            RunScope {
                org_id: Uuid::nil(),
                namespace: String::new(),
                grants: Grants::none(),
                requested: Grants::none(),
                read_model: None,
                event_time: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                seed: 0,
            },
        );
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| HostError::Engine(format!("{e}")))?;
        let mut store = self.new_store(state)?;
        let call = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .turnout_automation_plugin()
                .call_describe(&mut store)
                .await
        };
        let info = match tokio::time::timeout(self.limits.deadline, call).await {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Err(HostError::Describe(format!("{e:#}"))),
            Err(_) => return Err(HostError::Describe("timed out".into())),
        };
        convert::plugin_info(info).map_err(HostError::Describe)
    }

    fn new_store(&self, state: RunState) -> Result<Store<RunState>, HostError> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| HostError::Engine(format!("{e:#}")))?;
        store.set_epoch_deadline(self.deadline_ticks());
        store.epoch_deadline_trap();
        Ok(store)
    }

    fn deadline_ticks(&self) -> u64 {
        // The ticker is shared, so the first tick comes anywhere within one tick from now:
        // one extra tick makes the deadline a minimum (it fires within one tick after it).
        let tick = self.limits.epoch_tick.as_nanos().max(1);
        self.limits.deadline.as_nanos().div_ceil(tick) as u64 + 1
    }

    /// Run a plugin on one event. Never panics on hostile plugins: every failure is reported
    /// in [`RunOutcome::error`], and then no effect is returned.
    pub async fn run(
        &self,
        plugin: &LoadedPlugin,
        input: RunInput,
        read_model: Arc<dyn ReadModel>,
    ) -> RunOutcome {
        let started = Instant::now();
        let mut outcome = RunOutcome {
            effects: Vec::new(),
            logs: Vec::new(),
            fuel_used: 0,
            duration: Duration::ZERO,
            error: None,
        };
        match self
            .run_inner(plugin, input, read_model, &mut outcome)
            .await
        {
            Ok(effects) => outcome.effects = effects,
            Err(e) => {
                outcome.effects.clear();
                outcome.error = Some(e);
            }
        }
        outcome.duration = started.elapsed();
        outcome
    }

    async fn run_inner(
        &self,
        plugin: &LoadedPlugin,
        input: RunInput,
        read_model: Arc<dyn ReadModel>,
        outcome: &mut RunOutcome,
    ) -> Result<Vec<Effect>, RunError> {
        let limits = &self.limits;
        let info = &plugin.inner.info;
        let RunInput {
            org_id,
            event,
            config,
            grants,
            kv_namespace,
        } = input;

        if event.causation_depth > crate::limits::MAX_CAUSATION_DEPTH {
            return Err(RunError::ChainTooDeep {
                depth: event.causation_depth,
                limit: crate::limits::MAX_CAUSATION_DEPTH,
            });
        }
        if !info.handles.iter().any(|k| k == &event.kind || k == "*") {
            return Err(RunError::EventNotHandled { kind: event.kind });
        }
        let wit_event = convert::event_to_wit(&event);
        let config_text = config.to_string();
        let input_size = wit_event.payload.len() + config_text.len() + wit_event.kind.len();
        if input_size > limits.max_input_bytes {
            return Err(RunError::InputTooLarge {
                size: input_size,
                limit: limits.max_input_bytes,
            });
        }

        // Effective grants: what the admin granted AND the plugin declared.
        let effective: Grants = grants
            .iter()
            .filter(|c| info.capabilities.contains(c))
            .collect();
        let state = RunState::new(
            limits,
            RunScope {
                org_id,
                namespace: kv_namespace.unwrap_or_else(|| info.name.clone()),
                grants: effective.clone(),
                requested: info.capabilities.iter().copied().collect(),
                read_model: Some(read_model),
                event_time: event.occurred_at,
                seed: seed_from(&event.id),
            },
        );
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| RunError::Host(e.to_string()))?;
        let mut store = self
            .new_store(state)
            .map_err(|e| RunError::Host(e.to_string()))?;

        let pre = &plugin.inner.pre;
        let call = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .turnout_automation_plugin()
                .call_handle(&mut store, &wit_event, &config_text)
                .await
        };
        // The epoch deadline stops runaway WebAssembly; this timeout also bounds time spent
        // waiting on host queries (where no WebAssembly runs). Some slack lets the epoch
        // deadline fire first when WebAssembly is running.
        let timeout = limits.deadline + limits.epoch_tick * 3;
        let result = tokio::time::timeout(timeout, call).await;

        outcome.fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();
        let memory_exceeded = state.limiter.memory_exceeded;
        outcome.logs = state.finish_logs();

        let returned = match result {
            Err(_elapsed) => {
                return Err(RunError::DeadlineExceeded {
                    millis: limits.deadline.as_millis() as u64,
                });
            }
            Ok(Err(trap)) => {
                return Err(self.classify_trap(&trap, memory_exceeded, &outcome.logs));
            }
            Ok(Ok(Err(plugin_error))) => return Err(convert::plugin_error(plugin_error)),
            Ok(Ok(Ok(effects))) => effects,
        };

        if returned.len() > limits.max_effects {
            return Err(RunError::TooManyEffects {
                count: returned.len(),
                limit: limits.max_effects,
            });
        }
        let size: usize = returned.iter().map(convert::effect_size).sum();
        if size > limits.max_output_bytes {
            return Err(RunError::OutputTooLarge {
                size,
                limit: limits.max_output_bytes,
            });
        }
        let mut effects = Vec::with_capacity(returned.len());
        for (index, wit_effect) in returned.into_iter().enumerate() {
            let effect = convert::effect_from_wit(wit_effect, limits)
                .map_err(|reason| RunError::InvalidEffect { index, reason })?;
            let capability = effect.capability();
            if !effective.contains(capability) {
                return Err(RunError::NotGranted {
                    index,
                    effect: effect.kind().to_string(),
                    capability,
                    declared: info.capabilities.contains(&capability),
                });
            }
            effects.push(effect);
        }
        Ok(effects)
    }

    fn classify_trap(
        &self,
        error: &wasmtime::Error,
        memory_exceeded: bool,
        logs: &[LogLine],
    ) -> RunError {
        let trap = error.downcast_ref::<Trap>().copied();
        match trap {
            Some(Trap::OutOfFuel) => {
                return RunError::FuelExhausted {
                    fuel: self.limits.fuel,
                };
            }
            Some(Trap::Interrupt) => {
                return RunError::DeadlineExceeded {
                    millis: self.limits.deadline.as_millis() as u64,
                };
            }
            _ => {}
        }
        if memory_exceeded {
            return RunError::MemoryLimit {
                limit_bytes: self.limits.memory_bytes,
            };
        }
        if let Some(panic) = logs
            .iter()
            .rev()
            .find(|l| l.message.starts_with("stderr: ") && l.message.contains("panicked at"))
        {
            return RunError::Panicked {
                message: panic
                    .message
                    .trim_start_matches("stderr: ")
                    .trim()
                    .chars()
                    .take(1000)
                    .collect(),
            };
        }
        let message = match trap {
            Some(t) => t.to_string(),
            None => format!("{error:#}"),
        };
        if trap.is_none() && message.contains("instance") && message.contains("limit") {
            return RunError::Host(message);
        }
        RunError::Trap {
            message: message.chars().take(1000).collect(),
        }
    }

    fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.limits.cache_dir.as_ref()?;
        Some(dir.join(format!("{sha256}-{}.cwasm", self.fingerprint)))
    }

    fn write_disk_cache(&self, sha256: &str, component: &Component) {
        let Some(path) = self.artifact_path(sha256) else {
            return;
        };
        let result = component
            .serialize()
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                // Write then rename, so a reader never sees a partial artifact.
                let tmp = path.with_extension(format!("tmp-{}", Uuid::now_v7()));
                std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
                std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache compiled plugin");
        }
    }
}

/// Load a compiled artifact that this host wrote.
#[allow(unsafe_code)]
fn deserialize_artifact(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize_file` trusts its input to be a wasmtime-compiled artifact.
    // Files in the cache directory are only ever written by `write_disk_cache` (atomically,
    // via rename) from `Component::serialize` of a component this host validated; the file name
    // binds both the sha256 of the source component and the engine fingerprint, and wasmtime
    // itself checks the artifact header against the engine's version and configuration. The
    // directory must be private to the host (documented on `Limits::cache_dir`).
    unsafe { Component::deserialize_file(engine, path) }
}

fn check_header(bytes: &[u8]) -> Result<(), HostError> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(HostError::InvalidComponent(
            "not a WebAssembly binary (bad magic number)".into(),
        ));
    }
    // Core modules have version 1 and layer 0; components have layer 1.
    if bytes[6..8] == [0, 0] {
        return Err(HostError::CoreModule);
    }
    Ok(())
}

fn engine_config(limits: &Limits) -> Result<Config, HostError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.epoch_interruption(true);
    // Linear memories are small: reserve only what the limit allows (plus a guard region)
    // instead of the default multi-GiB reservation per slot.
    let memory = (limits.memory_bytes as u64).next_multiple_of(64 << 10);
    config.memory_reservation(memory);
    config.memory_guard_size(2 << 20);
    config.memory_reservation_for_growth(0);
    config.max_wasm_stack(512 << 10);
    config.async_stack_size(1 << 20);

    // Per component: the plugin's module plus the WASI adapter and shims.
    const CORE_INSTANCES_PER_COMPONENT: u32 = 20;
    const MEMORIES_PER_COMPONENT: u32 = 2;
    const TABLES_PER_COMPONENT: u32 = 4;
    let slots = limits.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(slots * MEMORIES_PER_COMPONENT)
        .total_tables(slots * TABLES_PER_COMPONENT)
        .total_stacks(slots)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .table_elements(limits.table_elements)
        .max_memory_size(memory as usize)
        .max_unused_warm_slots(slots.min(16));
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(config)
}

fn engine_fingerprint(engine: &Engine) -> String {
    struct ShaHasher(Sha256);
    impl std::hash::Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = ShaHasher(Sha256::new());
    hasher.0.update(b"wasmtime-48;");
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

fn seed_from(id: &Uuid) -> u64 {
    let (hi, lo) = id.as_u64_pair();
    hi ^ lo.rotate_left(17)
}

/// Per-run limiter: memory and table growth beyond the limits is refused and remembered.
pub(crate) struct RunLimiter {
    memory_bytes: usize,
    table_elements: usize,
    pub(crate) memory_exceeded: bool,
}

impl wasmtime::ResourceLimiter for RunLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_exceeded = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements)
    }
}

pub(crate) struct RunScope {
    pub(crate) org_id: OrgId,
    pub(crate) namespace: String,
    pub(crate) grants: Grants,
    /// What the plugin requests in `describe`, to tell a plugin author which of the two is
    /// missing when a query is refused.
    pub(crate) requested: Grants,
    pub(crate) read_model: Option<Arc<dyn ReadModel>>,
    pub(crate) event_time: chrono::DateTime<chrono::Utc>,
    pub(crate) seed: u64,
}

/// The data of one run's store.
pub(crate) struct RunState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: RunLimiter,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    pub(crate) scope: RunScope,
    pub(crate) logs: Vec<LogLine>,
    log_bytes: usize,
    max_log_bytes: usize,
    logs_truncated: bool,
    pub(crate) queries_made: u32,
    pub(crate) max_queries: u32,
    pub(crate) max_results: u32,
}

impl RunState {
    fn new(limits: &Limits, scope: RunScope) -> Self {
        let stdout = MemoryOutputPipe::new(limits.max_log_bytes);
        let stderr = MemoryOutputPipe::new(limits.max_log_bytes);
        let event_time = scope.event_time;
        // Nothing inherited: no args, environment, preopened directories or network. Clocks
        // read the event's time and randomness is seeded from the event id, so a replay of a
        // run sees exactly what the original saw.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(FixedWallClock::at(event_time))
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(SplitMix64::new(scope.seed))
            .insecure_random(SplitMix64::new(scope.seed ^ 0x5eed))
            .insecure_random_seed(u128::from(scope.seed))
            .max_random_size(4096)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        RunState {
            wasi,
            table: ResourceTable::new(),
            limiter: RunLimiter {
                memory_bytes: limits.memory_bytes,
                table_elements: limits.table_elements,
                memory_exceeded: false,
            },
            stdout,
            stderr,
            scope,
            logs: Vec::new(),
            log_bytes: 0,
            max_log_bytes: limits.max_log_bytes,
            logs_truncated: false,
            queries_made: 0,
            max_queries: limits.max_queries,
            max_results: limits.max_results,
        }
    }

    /// Record a log line, within the log cap.
    pub(crate) fn push_log(&mut self, level: LogLevel, message: String) {
        if self.logs_truncated {
            return;
        }
        let remaining = self.max_log_bytes.saturating_sub(self.log_bytes);
        if message.len() > remaining {
            let mut cut = remaining;
            while cut > 0 && !message.is_char_boundary(cut) {
                cut -= 1;
            }
            if cut > 0 {
                self.logs.push(LogLine {
                    level,
                    message: message[..cut].to_string(),
                });
            }
            self.logs.push(LogLine {
                level: LogLevel::Warn,
                message: format!("log truncated: the limit is {} bytes", self.max_log_bytes),
            });
            self.log_bytes = self.max_log_bytes;
            self.logs_truncated = true;
            return;
        }
        self.log_bytes += message.len();
        self.logs.push(LogLine { level, message });
    }

    /// Whether a capability is granted for this run.
    pub(crate) fn granted(&self, cap: Capability) -> bool {
        self.scope.grants.contains(cap)
    }

    fn finish_logs(mut self) -> Vec<LogLine> {
        for (level, name, pipe) in [
            (LogLevel::Info, "stdout", self.stdout.clone()),
            (LogLevel::Error, "stderr", self.stderr.clone()),
        ] {
            let bytes = pipe.contents();
            if !bytes.is_empty() {
                let text = String::from_utf8_lossy(&bytes).trim_end().to_string();
                self.push_log(level, format!("{name}: {text}"));
            }
        }
        self.logs
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
