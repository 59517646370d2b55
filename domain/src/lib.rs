//! The business of Turnout: validated types, services, authorization and domain events.
//! Depends on `entity` only; knows nothing of HTTP, GraphQL, job queues or WebAssembly.

pub mod db;
