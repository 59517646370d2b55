//! What the public pages need to be an organization's own: its settings (the region its phone
//! numbers are read in, how its pages look and where they may be embedded) and a form's
//! description (its fields' labels and help live in the form's `fields` JSON).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    PhoneRegion,
    BrandColor,
    LogoDataUrl,
    FrameAncestors,
}

#[derive(DeriveIden)]
enum Forms {
    Table,
    Description,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = [
            string(Organizations::PhoneRegion).default("US").to_owned(),
            string_null(Organizations::BrandColor),
            text_null(Organizations::LogoDataUrl),
            text_null(Organizations::FrameAncestors),
        ];
        for column in columns {
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
                    .table(Forms::Table)
                    .add_column(text_null(Forms::Description))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Forms::Table)
                    .drop_column(Forms::Description)
                    .to_owned(),
            )
            .await?;
        for column in [
            Organizations::PhoneRegion,
            Organizations::BrandColor,
            Organizations::LogoDataUrl,
            Organizations::FrameAncestors,
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
