//! The inbox: SMS and WhatsApp replies kept as messages of a conversation per person, with an
//! unread count and the member it is assigned to. Outgoing messages stay in `messages`; a
//! conversation reads both.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    vec![
        table("inbound_messages")
            .tenant()
            .fk("person_id", "people", false, OnDelete::Cascade)
            .col(string("channel"))
            .col(string("from_address"))
            .col(string_null("to_address"))
            .col(text("body"))
            // Twilio's MessageSid: a webhook Twilio retries is stored once.
            .col(string_null("provider_id"))
            .col(timestamp_with_time_zone("received_at"))
            .unique(&["organization_id", "provider_id", "person_id"])
            .index(&["person_id", "received_at"]),
        table("conversations")
            .tenant()
            .fk("person_id", "people", false, OnDelete::Cascade)
            .fk("assigned_user_id", "users", true, OnDelete::SetNull)
            .col(integer("unread_count").default(0))
            .col(timestamp_with_time_zone("last_message_at"))
            .col(timestamp_with_time_zone_null("read_at"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["organization_id", "person_id"])
            .index(&["organization_id", "last_message_at"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, tables()).await
    }
}
