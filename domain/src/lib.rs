//! The business of Turnout: validated types, services, authorization and domain events.
//! Depends on `entity` only; knows nothing of HTTP, GraphQL, job queues or WebAssembly.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod db;
pub mod dead_letters;
pub mod error;
pub mod events;
pub mod forms;
pub mod identity;
pub mod outbox;
pub mod people;
pub mod referrals;
pub mod schedule;
pub mod signup;
mod tags;
pub mod values;
pub mod webhooks;

pub use error::{DomainError, DomainResult};
