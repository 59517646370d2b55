//! Messaging: files attached to a message (the .ics invite of an RSVP confirmation) and an
//! organization's own wording of the built-in message templates, per channel and language.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::Cascade;
    vec![
        table("message_attachments")
            .tenant()
            .fk("message_id", "messages", false, Cascade)
            .col(string("filename"))
            .col(string("content_type"))
            .col(binary("bytes"))
            .col(timestamp_with_time_zone("created_at")),
        // Overrides a built-in template (`key`) for one channel (`email`, `sms`, `whatsapp`)
        // and language; `subject` is for email only.
        table("message_templates")
            .tenant()
            .col(string("key"))
            .col(string("channel"))
            .col(string("language"))
            .col(string_null("subject"))
            .col(text("body"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .unique(&["organization_id", "key", "channel", "language"]),
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
