//! The schema history of Turnout. Every migration runs on SQLite and on PostgreSQL; column types
//! are chosen through sea-query so each backend gets its native type (uuid, timestamptz, jsonb on
//! PostgreSQL; text and blobs on SQLite).

pub use sea_orm_migration::prelude::*;

mod alter;
mod builder;
mod m20261126_000001_crm;
mod m20261126_000002_identity;
mod m20261126_000004_people;
mod m20261126_000005_pipeline;
mod m20261126_000006_messaging;
mod m20261126_000007_automations;
mod m20261202_000008_walk_ins;
mod m20261202_000009_page_settings;
mod m20261202_000010_organizing;
mod m20261203_000011_broadcasts;
mod m20261203_000012_operators_and_locale;
mod m20261203_000013_password_resets;
mod m20261204_000014_chapters_and_disabling;
mod m20261204_000015_senders;
mod m20261204_000016_inbox;
mod m20261204_000017_task_reminders;
mod m20261204_000018_after_shift_and_digest;
mod m20261204_000019_whatsapp_templates;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_crm::Migration),
            Box::new(m20261126_000002_identity::Migration),
            Box::new(m20261126_000004_people::Migration),
            Box::new(m20261126_000005_pipeline::Migration),
            Box::new(m20261126_000006_messaging::Migration),
            Box::new(m20261126_000007_automations::Migration),
            Box::new(m20261202_000008_walk_ins::Migration),
            Box::new(m20261202_000009_page_settings::Migration),
            Box::new(m20261202_000010_organizing::Migration),
            Box::new(m20261203_000011_broadcasts::Migration),
            Box::new(m20261203_000012_operators_and_locale::Migration),
            Box::new(m20261203_000013_password_resets::Migration),
            Box::new(m20261204_000014_chapters_and_disabling::Migration),
            Box::new(m20261204_000015_senders::Migration),
            Box::new(m20261204_000016_inbox::Migration),
            Box::new(m20261204_000017_task_reminders::Migration),
            Box::new(m20261204_000018_after_shift_and_digest::Migration),
            Box::new(m20261204_000019_whatsapp_templates::Migration),
        ]
    }
}
