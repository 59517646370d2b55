//! What automations need beyond the tables of the first migration: each plugin's key-value
//! space, scheduled follow-ups, outbound webhook calls requested by plugins, and the number of
//! attempts of a run (a replay re-runs a failed run in place, keeping its idempotency key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::SetNull;
    vec![
        // One key-value space per plugin (namespace = the plugin's name) per organization.
        table("plugin_kv")
            .tenant()
            .col(string("namespace"))
            .col(string("key"))
            .col(text("value"))
            .col(timestamp_with_time_zone("updated_at"))
            .unique(&["organization_id", "namespace", "key"]),
        // A follow-up event an automation scheduled; a job turns due rows into domain events
        // (with the causation and depth recorded here).
        table("scheduled_follow_ups")
            .tenant()
            .fk("automation_id", "automations", true, SetNull)
            .fk("causation_id", "domain_events", true, SetNull)
            .col(string("kind"))
            .col(uuid("subject_id"))
            .col(json_binary("payload"))
            .col(integer("depth").default(0))
            .col(timestamp_with_time_zone("run_at"))
            .col(uuid_null("fired_event_id"))
            .col(timestamp_with_time_zone_null("fired_at"))
            .col(string("idempotency_key"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["idempotency_key"])
            .index(&["fired_at", "run_at"]),
        // A call of an integrator webhook (by the name an admin configured) that a plugin
        // asked for; the workers deliver it.
        table("outbound_webhook_calls")
            .tenant()
            .fk("automation_id", "automations", true, SetNull)
            .fk("event_id", "domain_events", true, SetNull)
            .col(string("webhook"))
            .col(json_binary("body"))
            .col(string("status"))
            .col(integer("attempts").default(0))
            .col(text_null("error"))
            .col(string("idempotency_key"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("delivered_at"))
            .unique(&["idempotency_key"])
            .index(&["status", "created_at"]),
    ]
}

#[derive(DeriveIden)]
enum AutomationRuns {
    Table,
    Attempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AutomationRuns::Table)
                    .add_column(integer(AutomationRuns::Attempts).default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AutomationRuns::Table)
                    .drop_column(AutomationRuns::Attempts)
                    .to_owned(),
            )
            .await?;
        drop_all(manager, tables()).await
    }
}
