//! Sending identities: the email From address and the SMS and WhatsApp numbers an
//! organization's messages come from, and optionally a chapter's (a region's apply to the
//! chapters inside it). Null falls back to the next one out, and in the end to the
//! deployment's (`TURNOUT_EMAIL_FROM`, `TURNOUT_TWILIO_SMS_FROM`, `TURNOUT_TWILIO_WHATSAPP_FROM`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organizations {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Chapters {
    Table,
}

// The variants name the columns (`email_from` …), so they share their suffix.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden, Clone, Copy)]
enum Sender {
    EmailFrom,
    SmsFrom,
    WhatsappFrom,
}

const SENDERS: [Sender; 3] = [Sender::EmailFrom, Sender::SmsFrom, Sender::WhatsappFrom];

async fn add<T: IntoTableRef + Copy>(manager: &SchemaManager<'_>, table: T) -> Result<(), DbErr> {
    // SQLite takes one column per ALTER TABLE.
    for column in SENDERS {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(string_null(column))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn drop<T: IntoTableRef + Copy>(manager: &SchemaManager<'_>, table: T) -> Result<(), DbErr> {
    for column in SENDERS {
        manager
            .alter_table(Table::alter().table(table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(manager, Organizations::Table).await?;
        add(manager, Chapters::Table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, Chapters::Table).await?;
        drop(manager, Organizations::Table).await
    }
}
