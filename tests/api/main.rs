//! End-to-end tests through the real HTTP server, on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod auth;
mod forms;
mod http;
mod identity;
mod people;
mod schema;
mod signup;
