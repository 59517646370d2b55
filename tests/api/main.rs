//! End-to-end tests through the real HTTP server, on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod audit;
mod auth;
mod csv_import;
mod custom_fields;
mod forms;
mod hardening;
mod http;
mod identity;
mod merge;
mod n_plus_one;
mod notes_tasks;
mod people;
mod people_crud;
mod rate_limits;
mod schema;
mod signup;
mod tags_segments;
mod tenancy;
