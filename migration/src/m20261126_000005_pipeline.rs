//! The event pipeline: when an outbox event has been fully handled (so the next event about the
//! same subject may start), dead-lettered jobs, cron ticks claimed once across worker processes,
//! reminders sent once per RSVP and offset, missed shifts recorded once per RSVP, and webhook
//! replays.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, bare_table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::Cascade;
    vec![
        // A job that failed its last attempt, kept with its error until someone retries it.
        table("dead_letters")
            .fk("organization_id", "organizations", true, Cascade)
            .col(string("queue"))
            .col(json_binary("job"))
            .col(text("error"))
            .col(integer("attempts"))
            .col(timestamp_with_time_zone("failed_at"))
            .col(timestamp_with_time_zone_null("retry_requested_at"))
            .col(timestamp_with_time_zone_null("retried_at"))
            .index(&["organization_id", "failed_at"])
            .index(&["retry_requested_at"]),
        // Every worker process runs the same cron schedules; the first to insert a tick owns it.
        bare_table("schedule_ticks")
            .col(string("schedule"))
            .col(timestamp_with_time_zone("tick_at"))
            .col(timestamp_with_time_zone("claimed_at"))
            .primary_key(&["schedule", "tick_at"]),
        // One reminder per RSVP and offset, ever.
        bare_table("shift_reminders")
            .tenant()
            .fk("rsvp_id", "rsvps", false, Cascade)
            .col(integer("offset_minutes"))
            .col(timestamp_with_time_zone("sent_at"))
            .primary_key(&["rsvp_id", "offset_minutes"]),
    ]
}

/// Columns added to tables of the first migration, one statement each (SQLite adds one column
/// per ALTER TABLE).
fn added_columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "domain_events",
            timestamp_with_time_zone_null("processed_at"),
        ),
        ("rsvps", timestamp_with_time_zone_null("missed_at")),
        ("webhook_deliveries", uuid_null("replay_of")),
        (
            "webhook_deliveries",
            timestamp_with_time_zone_null("enqueued_at"),
        ),
        ("webhook_endpoints", string_null("description")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in added_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        create_all(manager, tables()).await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            // Wakes the relay and live subscriptions on every API and worker node the moment an
            // event commits (NOTIFY is delivered on commit, never for a rolled-back insert).
            let conn = manager.get_connection();
            conn.execute_unprepared(
                "CREATE OR REPLACE FUNCTION turnout_notify_domain_event() RETURNS trigger AS $$
                 BEGIN
                   PERFORM pg_notify('turnout_domain_events',
                                     NEW.organization_id::text || ':' || NEW.id::text);
                   RETURN NEW;
                 END $$ LANGUAGE plpgsql",
            )
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER turnout_domain_events_notify AFTER INSERT ON domain_events
                 FOR EACH ROW EXECUTE FUNCTION turnout_notify_domain_event()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            let conn = manager.get_connection();
            conn.execute_unprepared(
                "DROP TRIGGER IF EXISTS turnout_domain_events_notify ON domain_events",
            )
            .await?;
            conn.execute_unprepared("DROP FUNCTION IF EXISTS turnout_notify_domain_event()")
                .await?;
        }
        drop_all(manager, tables()).await?;
        for (table, column) in added_columns().into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
