//! The Turnout plugin host: runs automation plugins (WebAssembly components built against the
//! `turnout:automation` contract in `plugins/wit/`) in a sandbox.
//!
//! - [`PluginHost::new`] builds one wasmtime engine (component model, fuel, epoch interruption,
//!   a pooling allocator sized from [`Limits`]) and starts its epoch ticker.
//! - [`PluginHost::load`] validates a component (a component, exporting a supported contract
//!   version), compiles it once (cached by sha256 in memory and optionally on disk), calls
//!   `describe`, and keeps the `InstancePre` for cheap instantiation.
//! - [`PluginHost::run`] instantiates, calls `handle` under fuel, deadline, memory and size
//!   limits, checks every effect against the grants, and returns a [`RunOutcome`].
//!
//! Queries go through the [`ReadModel`] trait, always with the run's organization id.
//! [`FixtureReadModel`] is an in-memory implementation for tests and `turnout plugin test`;
//! [`DbReadModel`] reads the CRM's database through the domain's organization-scoped queries.
//! [`AutomationRunner`] runs the automations a committed domain event triggers and has the
//! domain apply their effects (the workers' entry point; also dry runs and replays for the API).

mod bindings;
pub mod cli;
mod convert;
pub mod db_read_model;
pub mod error;
mod host;
mod imports;
pub mod limits;
pub mod read_model;
pub mod runner;
mod sandbox;
pub mod types;

pub use db_read_model::DbReadModel;
pub use error::{HostError, RunError};
pub use host::{LoadedPlugin, PluginHost, RunInput, RunOutcome, SUPPORTED_CONTRACT_VERSIONS};
pub use limits::Limits;
pub use read_model::{FixtureData, FixtureReadModel, ReadModel, ReadModelError};
pub use runner::{
    AutomationRunResult, AutomationRunner, DryRunEvent, DryRunOutcome, DryRunTarget, RunStatus,
    RunSummary,
};
pub use types::{
    AttendanceSummary, Capability, Channel, Effect, Event, Grants, LogLevel, LogLine, MessageBody,
    OrgId, PeopleQuery, Person, PluginInfo, Shift, TimeWindow,
};
