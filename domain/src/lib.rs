//! The business of Turnout: validated types, services, authorization and domain events.
//! Depends on `entity` only; knows nothing of HTTP, GraphQL, job queues or WebAssembly.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod automations;
pub mod bootstrap;
pub mod credential_cache;
pub mod custom_fields;
pub mod db;
pub mod dead_letters;
pub mod digest;
pub mod error;
pub mod events;
pub mod forms;
pub mod identity;
pub mod ladder;
pub mod links;
pub mod merge;
pub mod messaging;
pub mod notes;
pub mod organization;
pub mod organizing;
pub mod outbound;
pub mod outbox;
pub mod password_reset;
pub mod people;
pub mod people_csv;
pub mod people_tags;
pub mod person_write;
pub mod referrals;
pub mod schedule;
pub mod segments;
pub mod signup;
mod tags;
pub mod task_reminders;
pub mod tasks;
pub mod values;
pub mod webhooks;

pub use error::{DomainError, DomainResult};
