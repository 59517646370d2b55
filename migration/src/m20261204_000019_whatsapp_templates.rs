//! WhatsApp outside the 24-hour window: an organization's template may name its approved
//! Twilio Content template (`whatsapp_content_sid`, with the MiniJinja source of each of its
//! numbered variables), a message carries the rendered form (`content_sid`,
//! `content_variables`), and each person's window (`people.whatsapp_window_ends_at`, a day
//! after their last WhatsApp message to us) decides which is sent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::alter::{add, drop};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageTemplates {
    Table,
    WhatsappContentSid,
    WhatsappVariables,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    ContentSid,
    ContentVariables,
}

#[derive(DeriveIden)]
enum People {
    Table,
    WhatsappWindowEndsAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // One column per statement: SQLite alters a table one column at a time.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            add(
                MessageTemplates::Table,
                string_len_null(MessageTemplates::WhatsappContentSid, 64),
            ),
            add(
                MessageTemplates::Table,
                text_null(MessageTemplates::WhatsappVariables),
            ),
            add(Messages::Table, string_len_null(Messages::ContentSid, 64)),
            add(Messages::Table, text_null(Messages::ContentVariables)),
            add(
                People::Table,
                timestamp_with_time_zone_null(People::WhatsappWindowEndsAt),
            ),
        ];
        for column in columns {
            manager.alter_table(column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            drop(People::Table, People::WhatsappWindowEndsAt),
            drop(Messages::Table, Messages::ContentVariables),
            drop(Messages::Table, Messages::ContentSid),
            drop(MessageTemplates::Table, MessageTemplates::WhatsappVariables),
            drop(
                MessageTemplates::Table,
                MessageTemplates::WhatsappContentSid,
            ),
        ];
        for column in columns {
            manager.alter_table(column).await?;
        }
        Ok(())
    }
}
