//! A deployment operator can suspend an organization (`operatorSuspendOrganization`): while
//! `suspended_at` is set its keys and sessions stop working and its public pages say so. The
//! reason is for the operator's own records and the organization's members.
//!
//! Messages gain a `purpose`: `account` for an email about a Turnout account (an invitation)
//! to an address that need not be a person.
//!
//! And two settings of the organization: its time zone (quiet hours for people without one of
//! their own, the default of new events) and its default language (messages to people without
//! a preferred language, and its pages when the visitor's browser names none Turnout has).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    SuspendedAt,
    SuspendedReason,
    TimeZone,
    DefaultLanguage,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Purpose,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null(Organizations::SuspendedAt),
            text_null(Organizations::SuspendedReason),
            string_null(Organizations::TimeZone),
            string(Organizations::DefaultLanguage)
                .default("en")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organizations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(string_null(Messages::Purpose))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::Purpose)
                    .to_owned(),
            )
            .await?;
        for column in [
            Organizations::DefaultLanguage,
            Organizations::TimeZone,
            Organizations::SuspendedReason,
            Organizations::SuspendedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organizations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
