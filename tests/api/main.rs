//! End-to-end tests through the real HTTP server, on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod support;

mod audit;
mod auth;
mod automations;
mod broadcasts;
mod browser_cors;
mod browser_pages;
mod checkin;
mod csv_import;
mod custom_fields;
mod event_n_plus_one;
mod events;
mod forms;
mod frontend;
mod hardening;
mod hostile_input;
mod http;
mod identity;
mod merge;
mod messaging;
mod n_plus_one;
mod notes_tasks;
mod org_settings;
mod organizations;
mod organizing;
mod organizing_automation;
mod organizing_csv;
mod pages;
mod people;
mod people_crud;
mod pipeline;
mod plugin_support;
mod rate_limits;
mod rsvps;
mod schedule;
mod schema;
mod signup;
mod staff_events;
mod subscriptions;
mod tags_segments;
mod tenancy;
mod worker_processes;
