//! SeaORM entities: the tables as Rust types, no logic. Generated from the migrations with
//! `sea-orm-cli generate entity` (timestamps mapped to `DateTimeUtc`); regenerate after a migration.

pub mod prelude;

pub mod api_keys;
pub mod audit_log;
pub mod automation_runs;
pub mod automations;
pub mod chapters;
pub mod custom_field_values;
pub mod custom_fields;
pub mod dead_letters;
pub mod domain_events;
pub mod events;
pub mod form_submissions;
pub mod forms;
pub mod import_jobs;
pub mod invitations;
pub mod ladder_changes;
pub mod membership_chapters;
pub mod memberships;
pub mod message_attachments;
pub mod message_templates;
pub mod messages;
pub mod notes;
pub mod organizations;
pub mod outbound_webhook_calls;
pub mod people;
pub mod person_merges;
pub mod plugin_kv;
pub mod plugin_versions;
pub mod plugins;
pub mod refresh_tokens;
pub mod rsvps;
pub mod schedule_ticks;
pub mod scheduled_follow_ups;
pub mod segments;
pub mod shift_reminders;
pub mod shifts;
pub mod taggings;
pub mod tags;
pub mod tasks;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
