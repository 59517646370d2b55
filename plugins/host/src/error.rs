//! Errors: loading a plugin ([`HostError`]) and running one ([`RunError`]).

use serde::{Serialize, Serializer};

use crate::types::Capability;

/// Why a plugin could not be loaded (installed), or the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The upload is larger than the host accepts.
    #[error("plugin is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Size of the upload.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A core WebAssembly module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build the plugin for the \
         `wasm32-wasip2` target (`turnout plugin build`)"
    )]
    CoreModule,
    /// Not WebAssembly at all, or a malformed component.
    #[error("not a valid WebAssembly component: {0}")]
    InvalidComponent(String),
    /// A component built for the component-model async ABI, which the host does not run.
    #[error(
        "this component uses the component-model async ABI, which Turnout does not run: \
         rebuild it synchronously (`turnout plugin build` does; by hand, pass `--sync` to \
         componentize-qjs) ({0})"
    )]
    AsyncAbi(String),
    /// A component that does not export the plugin interface at all.
    #[error(
        "the component does not export `turnout:automation/plugin` (it exports: {exports}); \
         plugins are built with the turnout-plugin-sdk and `export_plugin!`"
    )]
    NotAPlugin {
        /// The exports found, comma-separated.
        exports: String,
    },
    /// A plugin built against a contract version this host does not support.
    #[error(
        "unsupported plugin contract version {found}: this host supports \
         turnout:automation {supported}; rebuild the plugin against a supported SDK"
    )]
    UnsupportedContract {
        /// The version found in the component.
        found: String,
        /// The supported versions, comma-separated.
        supported: String,
    },
    /// The component imports something the host does not provide.
    #[error("the plugin's imports cannot be satisfied: {0}")]
    Link(String),
    /// `describe` failed or returned something unusable.
    #[error("the plugin's describe() failed: {0}")]
    Describe(String),
    /// The admin granted something the plugin did not ask for.
    #[error("capability `{0}` is granted but the plugin does not request it")]
    GrantNotRequested(Capability),
    /// The on-disk artifact cache failed.
    #[error("plugin artifact cache: {0}")]
    Cache(String),
    /// The wasmtime engine could not be configured.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
}

/// Why a run failed. A failed run returns no effects.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Event payload plus config exceed the input cap.
    #[error("input is {size} bytes; the limit is {limit} bytes")]
    InputTooLarge {
        /// Size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// The event's causation chain is too long.
    #[error("causation depth {depth} exceeds the limit of {limit}: the chain stops here")]
    ChainTooDeep {
        /// Depth.
        depth: u32,
        /// Limit.
        limit: u32,
    },
    /// The plugin does not declare this event kind.
    #[error("the plugin does not handle events of kind `{kind}`")]
    EventNotHandled {
        /// Kind.
        kind: String,
    },
    /// The event or config could not be passed to the plugin.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The run used all its fuel.
    #[error("the plugin ran out of fuel ({fuel} units): it is doing too much work or looping")]
    FuelExhausted {
        /// The fuel budget.
        fuel: u64,
    },
    /// The run hit its wall-clock deadline.
    #[error("the plugin exceeded its {millis} ms deadline")]
    DeadlineExceeded {
        /// The deadline in milliseconds.
        millis: u64,
    },
    /// The plugin tried to grow memory past its limit.
    #[error("the plugin exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The limit.
        limit_bytes: usize,
    },
    /// The plugin panicked.
    #[error("the plugin panicked: {message}")]
    Panicked {
        /// The panic message (from its stderr).
        message: String,
    },
    /// The plugin trapped (crashed).
    #[error("the plugin crashed: {message}")]
    Trap {
        /// The trap.
        message: String,
    },
    /// The plugin returned its own error.
    #[error("the plugin reported an error ({kind}): {message}")]
    Plugin {
        /// `invalid_config`, `invalid_event` or `failed`.
        kind: String,
        /// The plugin's message.
        message: String,
    },
    /// Too many effects.
    #[error("the plugin returned {count} effects; the limit is {limit}")]
    TooManyEffects {
        /// Count.
        count: usize,
        /// Limit.
        limit: usize,
    },
    /// The effects are too large in total.
    #[error("the plugin's output is {size} bytes; the limit is {limit} bytes")]
    OutputTooLarge {
        /// Size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// An effect needs a capability the plugin did not declare or was not granted.
    #[error(
        "effect #{index} ({effect}) needs capability `{capability}`, which was not {}; \
         no effect of this run is applied",
        if *.declared { "granted" } else { "requested by the plugin" }
    )]
    NotGranted {
        /// Position in the returned list.
        index: usize,
        /// The effect's kind.
        effect: String,
        /// The capability it needs.
        capability: Capability,
        /// Whether the plugin declared the capability (and only the grant is missing).
        declared: bool,
    },
    /// An effect is malformed (bad id, assessment out of range …).
    #[error("effect #{index} is invalid: {reason}")]
    InvalidEffect {
        /// Position.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The host could not run the plugin (for example all instance slots are busy).
    #[error("the host could not run the plugin: {0}")]
    Host(String),
}

impl RunError {
    /// A stable machine-readable code, for run records and GraphQL.
    pub fn code(&self) -> &'static str {
        match self {
            RunError::InputTooLarge { .. } => "INPUT_TOO_LARGE",
            RunError::ChainTooDeep { .. } => "CHAIN_TOO_DEEP",
            RunError::EventNotHandled { .. } => "EVENT_NOT_HANDLED",
            RunError::InvalidInput(_) => "INVALID_INPUT",
            RunError::FuelExhausted { .. } => "FUEL_EXHAUSTED",
            RunError::DeadlineExceeded { .. } => "DEADLINE_EXCEEDED",
            RunError::MemoryLimit { .. } => "MEMORY_LIMIT",
            RunError::Panicked { .. } => "PANICKED",
            RunError::Trap { .. } => "TRAP",
            RunError::Plugin { .. } => "PLUGIN_ERROR",
            RunError::TooManyEffects { .. } => "TOO_MANY_EFFECTS",
            RunError::OutputTooLarge { .. } => "OUTPUT_TOO_LARGE",
            RunError::NotGranted { .. } => "NOT_GRANTED",
            RunError::InvalidEffect { .. } => "INVALID_EFFECT",
            RunError::Host(_) => "HOST_ERROR",
        }
    }
}

impl Serialize for RunError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("RunError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}
