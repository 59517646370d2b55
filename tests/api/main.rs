//! End-to-end tests through the real HTTP server, on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod audit;
mod auth;
mod checkin;
mod event_n_plus_one;
mod events;
mod forms;
mod hardening;
mod http;
mod identity;
mod n_plus_one;
mod people;
mod pipeline;
mod rate_limits;
mod rsvps;
mod schedule;
mod schema;
mod signup;
mod subscriptions;
mod tenancy;
mod worker_processes;
