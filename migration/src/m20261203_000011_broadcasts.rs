//! Broadcasts: one message to everyone in an audience (a saved segment or a filter), on one
//! channel, in each person's language. Each recipient's message is an ordinary `messages` row
//! that names its broadcast (so delivery, consent, STOP and quiet hours are the ones every
//! message has) and, for email, carries the token of its unsubscribe link.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::SetNull;
    vec![
        table("broadcasts")
            .tenant()
            .col(string("name"))
            .col(string("channel"))
            // A `PersonFilter` (a segment is `{"segment_id": …}`).
            .col(json_binary("audience"))
            // `[{language, subject, body}]`, the first one for languages not listed.
            .col(json_binary("contents"))
            // draft, scheduled, queuing, sent, cancelled (`paused` holds delivery).
            .col(string("status"))
            .col(boolean("paused").default(false))
            .col(timestamp_with_time_zone_null("scheduled_at"))
            .col(timestamp_with_time_zone_null("queued_at"))
            .col(integer("recipients").default(0))
            .fk("created_by_user_id", "users", true, SetNull)
            .col(uuid_null("created_by_api_key_id"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .index(&["status", "scheduled_at"]),
    ]
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    BroadcastId,
    PublicToken,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            uuid_null(Messages::BroadcastId),
            string_null(Messages::PublicToken),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_broadcast")
                    .table(Messages::Table)
                    .col(Messages::BroadcastId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_public_token")
                    .table(Messages::Table)
                    .col(Messages::PublicToken)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_messages_public_token", "idx_messages_broadcast"] {
            manager
                .drop_index(Index::drop().name(name).table(Messages::Table).to_owned())
                .await?;
        }
        for column in [Messages::PublicToken, Messages::BroadcastId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        drop_all(manager, tables()).await
    }
}
